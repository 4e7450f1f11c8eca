/**
 * "Run again" and "Retry failed nodes": a new execution of the same runbook version with the first one's parameters
 * and targets (or only the nodes that did not succeed), started like any run by whoever may run the runbook, and
 * linked to the first. The run starts through DispatchService, looked up when needed because the dispatch module
 * depends on this one (executions know nothing of transports).
 */
import { ConflictException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { canRunRunbook, type Principal } from '../auth/permissions';
import { DispatchService } from '../dispatch/dispatch.service';
import { RunbooksService } from '../runbooks/runbooks.service';
import type { RerunExecutionDto } from './dto/rerun-execution.dto';
import { ExecutionRerun } from './execution-rerun.entity';
import { ExecutionsService } from './executions.service';
import { rerunPlan } from './rerun';

@Injectable()
export class RerunService {
  constructor(
    private readonly executions: ExecutionsService,
    private readonly runbooks: RunbooksService,
    private readonly moduleRef: ModuleRef,
    @InjectRepository(ExecutionRerun) private readonly reruns: Repository<ExecutionRerun>,
  ) {}

  async rerun(id: string, request: RerunExecutionDto, user: Principal): Promise<{ id: string; status: string; rerunOf: string }> {
    const first = await this.executions.get(id);
    if (!(await this.runbooks.isVisible(first.runbookId, first.runbookHash, user)))
      throw new NotFoundException(`execution "${id}" not found`);
    const runbook = await this.runbooks.get(first.runbookId).catch(() => {
      throw new ConflictException(`runbook "${first.runbookId}" is no longer in the catalog: it cannot run again`);
    });
    if (!canRunRunbook(user, runbook.content)) throw new ForbiddenException(`you may not run runbook "${first.runbookId}"`);
    // Dispatch runs the catalog's version; a rerun promises the first one's.
    if (runbook.currentHash !== first.runbookHash) {
      throw new ConflictException(
        `runbook "${first.runbookId}" changed since this execution (version ${first.runbookHash.slice(0, 12)}, now ` +
          `${runbook.currentHash.slice(0, 12)}): start it anew to run the new version`,
      );
    }
    const isOnlyFailedNodes = request.onlyFailedNodes === true;
    const nodes = await this.executions.nodeRunsOf(id);
    const plan = rerunPlan({ ...first, nodes }, { onlyFailedNodes: isOnlyFailedNodes, params: request.params });
    if (!plan.isPossible) throw new ConflictException({ message: plan.message, details: plan.details });
    const execution = await this.moduleRef.get(DispatchService, { strict: false }).start({
      runbookId: first.runbookId,
      params: plan.params,
      targets: plan.targets,
      trigger: user.tokenId ? { type: 'token', token: user.tokenId, user: user.username } : { type: 'user', user: user.username },
      actor: user.username,
    });
    await this.reruns.insert({
      executionId: execution.id,
      rerunOf: id,
      isOnlyFailedNodes,
      requestedBy: user.username,
      createdAt: new Date(),
    });
    return { id: execution.id, status: execution.status, rerunOf: id };
  }

  /** The execution this one repeats, and the ones that repeat it, newest first. */
  async linksOf(id: string): Promise<{ rerunOf?: string; reruns: string[] }> {
    const [own, later] = await Promise.all([
      this.reruns.findOneBy({ executionId: id }),
      this.reruns.find({ where: { rerunOf: id }, order: { createdAt: 'DESC' }, select: { executionId: true } }),
    ]);
    return { ...(own ? { rerunOf: own.rerunOf } : {}), reruns: later.map((r) => r.executionId) };
  }
}
