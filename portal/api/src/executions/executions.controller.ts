import { Body, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditAction } from '../audit/audit-action.decorator';
import { CurrentUser } from '../auth/current-user.decorator';
import { RequirePermission, seesEveryRunbook, type Principal } from '../auth/permissions';
import { RunbooksService } from '../runbooks/runbooks.service';
import { ListExecutionsDto } from './dto/list-executions.dto';
import { RerunExecutionDto } from './dto/rerun-execution.dto';
import { ExecutionsService } from './executions.service';
import { RerunService } from './rerun.service';
import { isTerminalExecution } from './state-machine';
import type { Execution } from './execution.entity';

@ApiTags('executions')
@ApiBearerAuth()
@Controller('api/v1/executions')
export class ExecutionsController {
  constructor(
    private readonly executions: ExecutionsService,
    private readonly runbooks: RunbooksService,
    private readonly reruns: RerunService,
  ) {}

  /** Executions of the runbooks the caller may see, newest first. */
  @RequirePermission('executions:read')
  @Get()
  async list(@Query() query: ListExecutionsDto, @CurrentUser() user: Principal) {
    const runbookIds = seesEveryRunbook(user) ? undefined : (await this.runbooks.listVisible(user)).map((r) => r.id);
    if (query.runbook && runbookIds && !runbookIds.includes(query.runbook)) return [];
    return (await this.executions.list({ ...query, runbookIds })).map(summary);
  }

  @RequirePermission('executions:read')
  @Get(':id')
  async get(@Param('id', ParseUUIDPipe) id: string, @CurrentUser() user: Principal) {
    const execution = await this.visibleExecution(id, user);
    const runs = await this.executions.nodeRunsOf(id);
    const steps = await this.executions.stepRunsOf(runs.map((r) => r.id));
    return {
      ...summary(execution),
      ...(await this.reruns.linksOf(id)),
      ...(execution.approval ? { approval: await this.executions.approvalOf(id) } : {}),
      nodes: runs.map((run) => ({
        node: run.node,
        executor: run.executor,
        status: run.status,
        reason: run.reason ?? undefined,
        startedAt: run.startedAt,
        finishedAt: run.finishedAt,
        steps: latestAttempts(steps.filter((s) => s.nodeRunId === run.id)),
      })),
    };
  }

  /**
   * Run again (the same runbook version, parameters and targets) or, with `onlyFailedNodes`, on the nodes that did not
   * succeed; for whoever may run the runbook. Linked to this execution (`rerunOf`, `reruns`).
   */
  @RequirePermission('runbooks:run')
  // The body may hold secret parameters given again: the new execution.started event records them redacted.
  @AuditAction('execution.rerun', { recordBody: false })
  @Post(':id/rerun')
  rerun(@Param('id', ParseUUIDPipe) id: string, @Body() body: RerunExecutionDto, @CurrentUser() user: Principal) {
    return this.reruns.rerun(id, body, user);
  }

  /** The log as text; with `?follow=1` a server-sent event stream that ends when the execution does. */
  @RequirePermission('executions:read')
  @Get(':id/logs')
  @ApiProduces('text/plain', 'text/event-stream')
  async logs(
    @Param('id', ParseUUIDPipe) id: string,
    @Query('follow') follow: string | undefined,
    @Res() res: Response,
    @CurrentUser() user: Principal,
  ): Promise<void> {
    await this.visibleExecution(id, user); // 404 before any header is sent
    if (follow !== '1' && follow !== 'true') {
      const lines = await this.executions.logsOf(id);
      res.type('text/plain').send(lines.map((l) => l.data).join(''));
      return;
    }
    await this.streamLogs(id, res);
  }

  /** An execution of a runbook the caller may see; others are 404, as if they did not exist. */
  private async visibleExecution(id: string, user: Principal): Promise<Execution> {
    const execution = await this.executions.get(id);
    if (!(await this.runbooks.isVisible(execution.runbookId, execution.runbookHash, user))) {
      throw new NotFoundException(`execution "${id}" not found`);
    }
    return execution;
  }

  private async streamLogs(id: string, res: Response): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    const sent = new Set<string>();
    let isClosed = false;
    const push = async () => {
      for (const chunk of await this.executions.logsOf(id)) {
        const key = `${chunk.nodeRunId}:${chunk.seq}`;
        if (sent.has(key)) continue;
        sent.add(key);
        res.write(
          `event: log\ndata: ${JSON.stringify({ node: chunk.node, step: chunk.stepId, stream: chunk.stream, data: chunk.data })}\n\n`,
        );
      }
    };
    const finish = async (status: string) => {
      isClosed = true;
      await push();
      res.write(`event: end\ndata: ${JSON.stringify({ status })}\n\n`);
      res.end();
    };
    let pending = Promise.resolve();
    const onLog = ({ executionId }: { executionId: string }) => {
      if (executionId === id && !isClosed) pending = pending.then(push);
    };
    const onEnd = ({ executionId, status }: { executionId: string; status: string }) => {
      if (executionId === id && !isClosed) pending = pending.then(() => finish(status));
    };
    this.executions.events.on('logAppended', onLog);
    this.executions.events.on('executionFinished', onEnd);
    // Logs written by another replica do not raise local events: poll as well.
    const poll = setInterval(() => {
      pending = pending.then(async () => {
        const execution = await this.executions.get(id);
        if (isTerminalExecution(execution.status)) await finish(execution.status);
        else await push();
      });
    }, 1000);
    res.on('close', () => {
      isClosed = true;
      clearInterval(poll);
      this.executions.events.off('logAppended', onLog);
      this.executions.events.off('executionFinished', onEnd);
    });
    const execution = await this.executions.get(id);
    if (isTerminalExecution(execution.status)) await finish(execution.status);
    else await push();
  }
}

function summary(e: Execution) {
  return {
    id: e.id,
    status: e.status,
    reason: e.reason ?? undefined,
    runbook: e.runbookId,
    runbookVersion: e.runbookHash,
    trigger: e.trigger,
    actor: e.actor,
    params: e.params,
    targets: e.targets,
    createdAt: e.createdAt,
    startedAt: e.startedAt,
    finishedAt: e.finishedAt,
  };
}

/** One entry per step: its last attempt, with the number of attempts made. */
function latestAttempts(
  steps: {
    stepId: string;
    attempt: number;
    status: string;
    exitCode: number | null;
    outputs: Record<string, string>;
    error: string | null;
    startedAt: Date | null;
    finishedAt: Date | null;
  }[],
) {
  const byStep = new Map<string, (typeof steps)[number]>();
  for (const step of steps) {
    const seen = byStep.get(step.stepId);
    if (!seen || step.attempt > seen.attempt) byStep.set(step.stepId, step);
  }
  return [...byStep.values()].map((s) => ({
    id: s.stepId,
    status: s.status,
    exitCode: s.exitCode,
    attempts: s.attempt,
    outputs: s.outputs,
    error: s.error ?? undefined,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
  }));
}
