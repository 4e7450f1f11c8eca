/**
 * The record of executions: creating them, moving them through the state machine, and storing what nodes
 * report. Every status change is a conditional UPDATE whose WHERE clause comes from the transition table,
 * so two writers racing (an event and a watchdog) can never both win.
 */
import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { EventEmitter } from 'node:events';
import { DataSource, EntityManager, In, Repository } from 'typeorm';
import type { NodeEvent } from '@baton/shared';
import { MetricsService } from '../core/metrics.service';
import { Execution, NodeEventRow, NodeRun, StepRun } from './execution.entity';
import {
  ExecutionStatus,
  NodeRunStatus,
  executionOutcome,
  executionStatesLeadingTo,
  isTerminalNodeRun,
  nodeRunStatesLeadingTo,
} from './state-machine';

export interface NewExecution {
  execution: Omit<Execution, 'createdAt' | 'startedAt' | 'finishedAt' | 'cancelRequestedAt' | 'status' | 'reason'>;
  nodes: { id: string; node: string; executor: string }[];
}

export interface ExecutionQuery {
  runbook?: string;
  status?: ExecutionStatus;
  limit: number;
}

/** Emitted (in this process) when a node run or an execution reaches a final state. */
export type ExecutionEvents = {
  nodeRunFinished: [{ executionId: string; nodeRunId: string; status: NodeRunStatus }];
  executionFinished: [{ executionId: string; status: ExecutionStatus }];
  logAppended: [{ executionId: string }];
};

@Injectable()
export class ExecutionsService {
  private readonly logger = new Logger(ExecutionsService.name);
  readonly events = new EventEmitter<ExecutionEvents>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(Execution) private readonly executions: Repository<Execution>,
    @InjectRepository(NodeRun) private readonly nodeRuns: Repository<NodeRun>,
    @InjectRepository(StepRun) private readonly stepRuns: Repository<StepRun>,
    @InjectRepository(NodeEventRow) private readonly nodeEvents: Repository<NodeEventRow>,
    private readonly metrics: MetricsService,
  ) {
    this.events.setMaxListeners(0);
  }

  async create({ execution, nodes }: NewExecution): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.insert(Execution, { ...execution, status: 'running', startedAt: new Date() });
      await tx.insert(
        NodeRun,
        nodes.map((n, position) => ({ id: n.id, executionId: execution.id, node: n.node, executor: n.executor, position, status: 'queued' as const })),
      );
    });
    this.metrics.executionsStarted.inc({ trigger: execution.trigger.type });
  }

  async get(id: string): Promise<Execution> {
    const execution = await this.executions.findOneBy({ id });
    if (!execution) throw new NotFoundException(`execution "${id}" not found`);
    return execution;
  }

  list(query: ExecutionQuery): Promise<Execution[]> {
    return this.executions.find({
      where: { ...(query.runbook ? { runbookId: query.runbook } : {}), ...(query.status ? { status: query.status } : {}) },
      order: { createdAt: 'DESC' },
      take: query.limit,
    });
  }

  nodeRunsOf(executionId: string): Promise<NodeRun[]> {
    return this.nodeRuns.find({ where: { executionId }, order: { position: 'ASC' } });
  }

  stepRunsOf(nodeRunIds: string[]): Promise<StepRun[]> {
    if (nodeRunIds.length === 0) return Promise.resolve([]);
    return this.stepRuns.find({ where: { nodeRunId: In(nodeRunIds) }, order: { startedAt: 'ASC', attempt: 'ASC' } });
  }

  /** Log events of an execution after `after` (a cursor of node run position and seq), in order. */
  async logsOf(executionId: string): Promise<{ node: string; stepId: string | null; stream: string | null; data: string; seq: number; nodeRunId: string }[]> {
    return this.db.query(
      `SELECT r.node, e.step_id AS "stepId", e.stream, e.data, e.seq, e.node_run_id AS "nodeRunId"
         FROM node_events e JOIN node_runs r ON r.id = e.node_run_id
        WHERE r.execution_id = $1 AND e.type = 'step.log'
        ORDER BY r.position, e.seq`,
      [executionId],
    );
  }

  /** Moves a node run to `to` if the state machine allows it from its current state; returns whether it moved. */
  async moveNodeRun(nodeRunId: string, to: NodeRunStatus, reason?: string, tx: EntityManager = this.db.manager): Promise<boolean> {
    const now = new Date();
    const result = await tx
      .createQueryBuilder()
      .update(NodeRun)
      .set({
        status: to,
        ...(reason !== undefined ? { reason } : {}),
        ...(to === 'running' ? { startedAt: now } : {}),
        ...(isTerminalNodeRun(to) ? { finishedAt: now } : {}),
      })
      .where('id = :nodeRunId AND status IN (:...from)', { nodeRunId, from: nodeRunStatesLeadingTo(to) })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Ends a node run (from outside its own events: unreachable, lost, refused...) and, if it was the last, the execution. */
  async endNodeRun(executionId: string, nodeRunId: string, to: NodeRunStatus, reason: string): Promise<boolean> {
    const moved = await this.moveNodeRun(nodeRunId, to, reason);
    if (moved) await this.afterNodeRunFinished(executionId, nodeRunId, to);
    return moved;
  }

  async markDispatched(nodeRunId: string): Promise<void> {
    await this.nodeRuns.update({ id: nodeRunId }, { dispatchedAt: new Date() });
  }

  async requestCancel(executionId: string): Promise<boolean> {
    const result = await this.executions
      .createQueryBuilder()
      .update()
      .set({ cancelRequestedAt: () => 'now()' })
      .where('id = :executionId AND cancel_requested_at IS NULL AND status IN (:...live)', { executionId, live: ['queued', 'running', 'waiting'] })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /**
   * Stores a batch of node events in one transaction. An event already stored (same node run and seq) is
   * skipped, so JetStream redelivery or an agent re-sending its spool changes nothing.
   */
  async applyEvents(executionId: string, events: NodeEvent[]): Promise<void> {
    const finished: { nodeRunId: string; status: NodeRunStatus }[] = [];
    let hasLogs = false;
    await this.db.transaction(async (tx) => {
      for (const event of events) {
        const isNew = await this.recordEvent(tx, event);
        if (!isNew) continue;
        if (event.type === 'step.log') hasLogs = true;
        const ended = await this.applyEvent(tx, event);
        if (ended) finished.push(ended);
      }
    });
    if (hasLogs) this.events.emit('logAppended', { executionId });
    for (const { nodeRunId, status } of finished) await this.afterNodeRunFinished(executionId, nodeRunId, status);
  }

  /**
   * Keeps only events of node runs that belong to this execution and this node: an agent can only speak for
   * its own runs, and an event for a run we never created is dropped rather than failing the batch.
   */
  async eventsOfKnownNodeRuns(executionId: string, events: NodeEvent[], node: string): Promise<NodeEvent[]> {
    const ids = [...new Set(events.map((e) => e.nodeRunId))];
    const known = await this.nodeRuns.find({ where: { id: In(ids), executionId, node }, select: { id: true } });
    const knownIds = new Set(known.map((r) => r.id));
    const dropped = events.filter((e) => !knownIds.has(e.nodeRunId));
    if (dropped.length) this.logger.warn({ executionId, node, dropped: dropped.length }, 'dropping events of unknown node runs');
    return events.filter((e) => knownIds.has(e.nodeRunId));
  }

  private async recordEvent(tx: EntityManager, event: NodeEvent): Promise<boolean> {
    const isLog = event.type === 'step.log';
    const rows: unknown[] = await tx.query(
      `INSERT INTO node_events (node_run_id, seq, type, step_id, attempt, stream, data, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8 / 1000.0))
       ON CONFLICT DO NOTHING RETURNING seq`,
      [
        event.nodeRunId,
        event.seq,
        event.type,
        'stepId' in event ? event.stepId : null,
        'attempt' in event ? event.attempt : null,
        isLog ? event.stream : null,
        isLog ? event.data : null,
        event.at,
      ],
    );
    return rows.length > 0;
  }

  private async applyEvent(tx: EntityManager, event: NodeEvent): Promise<{ nodeRunId: string; status: NodeRunStatus } | undefined> {
    const at = new Date(event.at);
    switch (event.type) {
      case 'step.started':
        await this.moveNodeRun(event.nodeRunId, 'running', undefined, tx);
        await tx.query(
          `INSERT INTO step_runs (node_run_id, step_id, attempt, status, started_at) VALUES ($1, $2, $3, 'running', $4)
           ON CONFLICT (node_run_id, step_id, attempt) DO NOTHING`,
          [event.nodeRunId, event.stepId, event.attempt, at],
        );
        return undefined;
      case 'step.finished':
        await tx.query(
          `INSERT INTO step_runs (node_run_id, step_id, attempt, status, exit_code, outputs, error, started_at, finished_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
           ON CONFLICT (node_run_id, step_id, attempt)
           DO UPDATE SET status = $4, exit_code = $5, outputs = $6, error = $7, finished_at = $8`,
          [event.nodeRunId, event.stepId, event.attempt, event.status, event.exitCode, JSON.stringify(event.outputs), event.error ?? null, at],
        );
        return undefined;
      case 'node.finished': {
        const moved = await this.moveNodeRun(event.nodeRunId, event.status, event.reason, tx);
        return moved ? { nodeRunId: event.nodeRunId, status: event.status } : undefined;
      }
      case 'step.log':
        return undefined;
    }
  }

  /** When the last node run of an execution ends, the execution ends too, with an outcome derived from them all. */
  private async afterNodeRunFinished(executionId: string, nodeRunId: string, status: NodeRunStatus): Promise<void> {
    this.events.emit('nodeRunFinished', { executionId, nodeRunId, status });
    const runs = await this.nodeRuns.find({ where: { executionId }, select: { status: true, node: true } });
    if (!runs.every((r) => isTerminalNodeRun(r.status))) return;
    const execution = await this.get(executionId);
    const outcome = executionOutcome(runs.map((r) => r.status), execution.cancelRequestedAt !== null);
    const failedNodes = runs.filter((r) => r.status !== 'succeeded').map((r) => `${r.node} ${r.status}`);
    await this.finish(executionId, outcome, failedNodes.length ? failedNodes.join(', ') : undefined);
  }

  /** Ends an execution; returns false if it had already ended. */
  async finish(executionId: string, status: ExecutionStatus, reason?: string): Promise<boolean> {
    const result = await this.executions
      .createQueryBuilder()
      .update()
      .set({ status, reason: reason ?? null, finishedAt: () => 'now()' })
      .where('id = :executionId AND status IN (:...from)', { executionId, from: executionStatesLeadingTo(status) })
      .execute();
    const moved = (result.affected ?? 0) > 0;
    if (moved) {
      this.metrics.executionsFinished.inc({ status });
      this.logger.log({ executionId, status, reason }, 'execution finished');
      this.events.emit('executionFinished', { executionId, status });
    }
    return moved;
  }

  /** Node runs still in a live state: for watchdogs. */
  liveNodeRuns(): Promise<(NodeRun & { timeoutMs: number; createdAt: Date })[]> {
    return this.db.query(
      `SELECT r.id, r.execution_id AS "executionId", r.node, r.executor, r.status, r.dispatched_at AS "dispatchedAt",
              r.started_at AS "startedAt", e.timeout_ms AS "timeoutMs", e.created_at AS "createdAt"
         FROM node_runs r JOIN executions e ON e.id = r.execution_id
        WHERE r.status IN ('queued', 'running', 'waiting')`,
    );
  }
}
