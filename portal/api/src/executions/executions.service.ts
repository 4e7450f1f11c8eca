/**
 * The record of executions: creating them, moving them through the state machine, and storing what nodes
 * report. Every status change is a conditional UPDATE whose WHERE clause comes from the transition table,
 * so two writers racing (an event and a watchdog) can never both win.
 */
import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { EventEmitter } from 'node:events';
import { DataSource, EntityManager, In, Repository } from 'typeorm';
import { maskRecord, type NodeEvent } from '@baton/shared';
import { rowsOf } from '../core/database/rows';
import { MetricsService } from '../core/metrics.service';
import { ReplicaService } from '../core/replica.service';
import { SecretsService } from '../secrets/secrets.service';
import { Execution, NodeEventRow, NodeRun, StepRun, type StoredApproval } from './execution.entity';
import {
  ExecutionStatus,
  NodeRunStatus,
  executionOutcome,
  executionStatesLeadingTo,
  isTerminalNodeRun,
  nodeRunStatesLeadingTo,
} from './state-machine';

export interface NewExecution {
  execution: Omit<Execution, 'createdAt' | 'startedAt' | 'finishedAt' | 'cancelRequestedAt' | 'status' | 'reason' | 'approval'>;
  nodes: { id: string; node: string; executor: string }[];
  /** The validated parameters, encrypted (SecretsService.sealParams): whoever starts the run reads them. */
  sealedParams: string;
  /** The runbook's `concurrency` for this run: its key and limit. */
  concurrency?: { key: string; limit: number };
  /** Set when the run needs approval: it is stored `waiting` and queued once approved. */
  approval?: StoredApproval;
}

/** The approval an execution needed, and the decisions taken on it. */
export interface ApprovalView {
  required: number;
  approvers: StoredApproval['approvers'];
  requestedBy: string;
  timeoutAt: string;
  decisions: { user: string; decision: 'approved' | 'rejected'; comment: string | null; at: Date }[];
}

/** A queued execution a replica has claimed: now running and driven by it. */
export interface ClaimedExecution {
  id: string;
  runbookId: string;
  runbookHash: string;
  timeoutMs: number;
  targets: Execution['targets'];
  sealedParams: string;
  /** Its node runs in dispatch order. */
  nodeRuns: Pick<NodeRun, 'id' | 'node' | 'executor'>[];
}

/** A node run not ended yet, as the watchdog sees it. */
export type LiveNodeRun = NodeRun & {
  timeoutMs: number;
  createdAt: Date;
  /** The replica driving its execution (null for executions from before replicas were recorded). */
  drivenBy: string | null;
  isDriverAlive: boolean;
};

/**
 * What the watchdog saw of a node run when it decided to end it. The end lands only if the run is still so when
 * the UPDATE runs: a run that moved meanwhile (dispatched, started, its replica heartbeating again) is left alone
 * and judged again next round, from fresh state.
 */
export interface NodeRunSighting {
  status: NodeRunStatus;
  isDispatched: boolean;
  /** The decision rests on the replica driving the execution having gone silent: it must still be silent. */
  isDriverGone: boolean;
}

/** A node event as received, with the node that sent it (from the NATS subject, or `local`). */
export interface ReportedEvent {
  event: NodeEvent;
  node: string;
}

export interface ExecutionQuery {
  runbook?: string;
  /** Only executions of these runbooks (the ones the caller may see); undefined: no restriction. */
  runbookIds?: string[];
  /** Only executions started by this job (its trigger names it). */
  job?: string;
  status?: ExecutionStatus;
  limit: number;
}

/** Emitted (in this process) when an execution is created, and when a node run or an execution reaches a final state. */
export type ExecutionEvents = {
  executionStarted: [{ execution: Execution }];
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
    private readonly secrets: SecretsService,
    private readonly replica: ReplicaService,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Stores a new execution, queued, with its node runs; a dispatcher starts it (`claimQueued`). */
  async create({
    execution,
    nodes,
    sealedParams,
    concurrency,
    approval,
  }: NewExecution): Promise<{ execution: Execution; nodeRuns: NodeRun[] }> {
    const now = new Date();
    const record = this.executions.create({
      ...execution,
      status: approval ? 'waiting' : 'queued',
      approval: approval ?? null,
      reason: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      cancelRequestedAt: null,
    });
    const nodeRuns = nodes.map((n, position) =>
      this.nodeRuns.create({
        id: n.id,
        executionId: execution.id,
        node: n.node,
        executor: n.executor,
        position,
        status: 'queued',
        reason: null,
        dispatchedAt: null,
        startedAt: null,
        finishedAt: null,
      }),
    );
    // One statement (atomic on its own): the execution and its node runs, in a single round trip.
    await this.db.query(
      `WITH e AS (
         INSERT INTO executions (id, runbook_id, runbook_hash, status, trigger, actor, params, targets, timeout_ms, created_at,
                                 sealed_params, concurrency_key, concurrency_limit, approval)
         VALUES ($1, $2, $3, $18, $4, $5, $6, $7, $8, $9, $14, $15, $16, $17) RETURNING id)
       INSERT INTO node_runs (id, execution_id, node, executor, position, status)
       SELECT n.id, (SELECT id FROM e), n.node, n.executor, n.position, 'queued'
         FROM unnest($10::uuid[], $11::text[], $12::text[], $13::int[]) AS n(id, node, executor, position)`,
      [
        execution.id,
        execution.runbookId,
        execution.runbookHash,
        JSON.stringify(execution.trigger),
        execution.actor,
        JSON.stringify(execution.params),
        JSON.stringify(execution.targets),
        execution.timeoutMs,
        now,
        nodeRuns.map((r) => r.id),
        nodeRuns.map((r) => r.node),
        nodeRuns.map((r) => r.executor),
        nodeRuns.map((r) => r.position),
        sealedParams,
        concurrency?.key ?? null,
        concurrency?.limit ?? null,
        approval ? JSON.stringify(approval) : null,
        record.status,
      ],
    );
    this.metrics.executionsStarted.inc({ trigger: execution.trigger.type });
    this.events.emit('executionStarted', { execution: record });
    return { execution: record, nodeRuns };
  }

  async get(id: string): Promise<Execution> {
    const execution = await this.executions.findOneBy({ id });
    if (!execution) throw new NotFoundException(`execution "${id}" not found`);
    return execution;
  }

  list(query: ExecutionQuery): Promise<Execution[]> {
    const select = this.executions.createQueryBuilder('e').orderBy('e.createdAt', 'DESC').take(query.limit);
    if (query.runbookIds)
      select.andWhere('e.runbook_id IN (:...runbookIds)', { runbookIds: query.runbookIds.length ? query.runbookIds : [''] });
    if (query.runbook) select.andWhere('e.runbook_id = :runbook', { runbook: query.runbook });
    if (query.status) select.andWhere('e.status = :status', { status: query.status });
    if (query.job) select.andWhere(`e.trigger->>'job' = :job`, { job: query.job });
    return select.getMany();
  }

  nodeRunsOf(executionId: string): Promise<NodeRun[]> {
    return this.nodeRuns.find({ where: { executionId }, order: { position: 'ASC' } });
  }

  stepRunsOf(nodeRunIds: string[]): Promise<StepRun[]> {
    if (nodeRunIds.length === 0) return Promise.resolve([]);
    return this.stepRuns.find({ where: { nodeRunId: In(nodeRunIds) }, order: { startedAt: 'ASC', attempt: 'ASC' } });
  }

  /** Log events of an execution after `after` (a cursor of node run position and seq), in order. */
  async logsOf(
    executionId: string,
  ): Promise<{ node: string; stepId: string | null; stream: string | null; data: string; seq: number; nodeRunId: string }[]> {
    return this.db.query(
      `SELECT r.node, e.step_id AS "stepId", e.stream, e.data, e.seq, e.node_run_id AS "nodeRunId"
         FROM node_events e JOIN node_runs r ON r.id = e.node_run_id
        WHERE r.execution_id = $1 AND e.type = 'step.log'
        ORDER BY r.position, e.seq`,
      [executionId],
    );
  }

  /**
   * Moves a node run to `to` if the state machine allows it from its current state (and, for a move decided on an
   * earlier view, if the run is still as `seen`); returns whether it moved. One conditional UPDATE: the database
   * decides, so two writers racing (an event and a watchdog) can never both win. `at` is when the node says the
   * move happened (its event's time); the portal's own decisions happen now. The timeline note at the end of this file
   * says how times are placed.
   */
  private async moveNodeRun(
    tx: EntityManager,
    nodeRunId: string,
    to: NodeRunStatus,
    { reason, seen, at }: { reason?: string; seen?: NodeRunSighting; at?: Date } = {},
  ): Promise<boolean> {
    const from = nodeRunStatesLeadingTo(to, seen?.status);
    if (from.length === 0) return false;
    const params: unknown[] = [nodeRunId, from, to];
    const param = (value: unknown) => `$${params.push(value)}`;
    const set = [`status = $3`];
    if (reason !== undefined) set.push(`reason = ${param(reason)}`);
    // A node run starts with its first step (as the node tells it), not before its execution; restarting after
    // `waiting` keeps the first start.
    if (to === 'running') set.push(`started_at = COALESCE(r.started_at, ${notBeforeExecution(param(reportedTime(at)))})`);
    // It ends after everything it holds: its start and each step's start and end, whatever order events came in.
    if (isTerminalNodeRun(to)) {
      const stepsEnd = `(SELECT max(GREATEST(s.started_at, s.finished_at)) FROM step_runs s WHERE s.node_run_id = r.id)`;
      set.push(`finished_at = GREATEST(${notBeforeExecution(param(reportedTime(at)))}, r.started_at, ${stepsEnd})`);
    }
    const where = [`r.id = $1`, `r.status = ANY($2::text[])`];
    if (seen) where.push(seen.isDispatched ? `r.dispatched_at IS NOT NULL` : `r.dispatched_at IS NULL`);
    if (seen?.isDriverGone) {
      const silence = param(this.replica.silenceLimitMs / 1000);
      where.push(`NOT EXISTS (SELECT 1 FROM executions e WHERE e.id = r.execution_id AND ${isDriverAlive(silence)})`);
    }
    const moved = await tx.query(`UPDATE node_runs r SET ${set.join(', ')} WHERE ${where.join(' AND ')} RETURNING r.id`, params);
    return rowsOf(moved).length > 0;
  }

  /**
   * Ends a node run (from outside its own events: unreachable, lost, refused...) and, if it was the last, the
   * execution. A watchdog passes what it `seen` of the run: see NodeRunSighting.
   */
  async endNodeRun(executionId: string, nodeRunId: string, to: NodeRunStatus, reason: string, seen?: NodeRunSighting): Promise<boolean> {
    const finishedExecutions: { executionId: string; status: ExecutionStatus }[] = [];
    const moved = await this.db.transaction(async (tx) => {
      if (!(await this.moveNodeRun(tx, nodeRunId, to, { reason, seen }))) return false;
      finishedExecutions.push(...(await this.finishCompleted(tx, [executionId])));
      return true;
    });
    if (moved) this.announce([{ executionId, nodeRunId, status: to }], finishedExecutions);
    return moved;
  }

  /** Records that the node acknowledged the run; returns the run's status then (it may have ended meanwhile). */
  async markDispatched(nodeRunId: string): Promise<NodeRunStatus | undefined> {
    const rows = rowsOf<{ status: NodeRunStatus }>(
      await this.db.query(`UPDATE node_runs SET dispatched_at = $2 WHERE id = $1 RETURNING status`, [nodeRunId, new Date()]),
    );
    return rows[0]?.status;
  }

  async requestCancel(executionId: string): Promise<boolean> {
    const result = await this.executions
      .createQueryBuilder()
      .update()
      .set({ cancelRequestedAt: () => 'now()' })
      .where('id = :executionId AND cancel_requested_at IS NULL AND status IN (:...live)', {
        executionId,
        live: ['queued', 'running', 'waiting'],
      })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /**
   * Stores a batch of node events (from any executions and nodes) in one transaction. An event already stored
   * (same node run and seq) is skipped, so JetStream redelivery or an agent re-sending its spool changes
   * nothing. An event is only accepted from the node its node run belongs to: an agent speaks for itself only.
   */
  async applyEvents(batch: ReportedEvent[]): Promise<void> {
    if (batch.length === 0) return;
    const finishedRuns: { executionId: string; nodeRunId: string; status: NodeRunStatus }[] = [];
    const finishedExecutions: { executionId: string; status: ExecutionStatus }[] = [];
    const withLogs = new Set<string>();
    await this.db.transaction(async (tx) => {
      const accepted = (await this.acceptedEvents(tx, batch)).map((item) => ({ ...item, event: this.masked(item.event) }));
      const fresh = await this.recordNew(tx, accepted);
      for (const { event, executionId } of fresh) {
        if (event.type === 'step.log') withLogs.add(executionId);
        const ended = await this.applyEvent(tx, event);
        if (ended) finishedRuns.push({ executionId, nodeRunId: event.nodeRunId, status: ended });
      }
      if (finishedRuns.length)
        finishedExecutions.push(
          ...(await this.finishCompleted(
            tx,
            finishedRuns.map((r) => r.executionId),
          )),
        );
    });
    for (const executionId of withLogs) this.events.emit('logAppended', { executionId });
    this.announce(finishedRuns, finishedExecutions);
  }

  /**
   * Nodes mask secrets themselves (streaming, so split values are caught); this second pass, against every secret
   * this portal knows, protects the store from an agent that is old, misconfigured or was sent no secret list.
   */
  private masked(event: NodeEvent): NodeEvent {
    const mask = (text: string) => this.secrets.mask(text);
    switch (event.type) {
      case 'step.log':
        return { ...event, data: mask(event.data) };
      case 'step.finished':
        return { ...event, outputs: maskRecord(event.outputs, mask), error: event.error === undefined ? undefined : mask(event.error) };
      case 'node.finished':
        return { ...event, reason: event.reason === undefined ? undefined : mask(event.reason) };
      case 'step.started':
        return event;
    }
  }

  private async acceptedEvents(tx: EntityManager, batch: ReportedEvent[]): Promise<(ReportedEvent & { executionId: string })[]> {
    const ids = [...new Set(batch.map((b) => b.event.nodeRunId))];
    const runs: { id: string; executionId: string; node: string }[] = await tx.query(
      `SELECT id, execution_id AS "executionId", node FROM node_runs WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const byId = new Map(runs.map((r) => [r.id, r]));
    const accepted = batch.flatMap((b) => {
      const run = byId.get(b.event.nodeRunId);
      return run && run.node === b.node ? [{ ...b, executionId: run.executionId }] : [];
    });
    if (accepted.length < batch.length)
      this.logger.warn({ dropped: batch.length - accepted.length }, 'dropping events of unknown node runs or from the wrong node');
    return accepted;
  }

  /** Inserts the events in one statement; returns those not stored before, in their original order. */
  private async recordNew<T extends { event: NodeEvent }>(tx: EntityManager, items: T[]): Promise<T[]> {
    if (items.length === 0) return [];
    const column = <V>(pick: (e: NodeEvent) => V) => items.map((i) => pick(i.event));
    const rows: { node_run_id: string; seq: number }[] = await tx.query(
      `INSERT INTO node_events (node_run_id, seq, type, step_id, attempt, stream, data, at)
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::timestamptz[])
       ON CONFLICT DO NOTHING RETURNING node_run_id, seq`,
      [
        column((e) => e.nodeRunId),
        column((e) => e.seq),
        column((e) => e.type),
        column((e) => ('stepId' in e ? e.stepId : null)),
        column((e) => ('attempt' in e ? e.attempt : null)),
        column((e) => (e.type === 'step.log' ? e.stream : null)),
        column((e) => (e.type === 'step.log' ? e.data : null)),
        column((e) => new Date(e.at).toISOString()),
      ],
    );
    const inserted = new Set(rows.map((r) => `${r.node_run_id}:${r.seq}`));
    return items.filter((i) => inserted.has(`${i.event.nodeRunId}:${i.event.seq}`));
  }

  private async applyEvent(tx: EntityManager, event: NodeEvent): Promise<NodeRunStatus | undefined> {
    const at = new Date(event.at);
    switch (event.type) {
      case 'step.started':
        await this.moveNodeRun(tx, event.nodeRunId, 'running', { at });
        await tx.query(
          `INSERT INTO step_runs (node_run_id, step_id, attempt, status, started_at)
           SELECT $1, $2, $3, 'running', ${withinNodeRun('$4')}
             FROM node_runs r JOIN executions e ON e.id = r.execution_id WHERE r.id = $1
           ON CONFLICT (node_run_id, step_id, attempt) DO NOTHING`,
          [event.nodeRunId, event.stepId, event.attempt, reportedTime(at)],
        );
        return undefined;
      case 'step.finished':
        // A step that ends without a stored start (its start event lost) starts and ends at once.
        await tx.query(
          `INSERT INTO step_runs (node_run_id, step_id, attempt, status, exit_code, outputs, error, started_at, finished_at)
           SELECT $1, $2, $3, $4, $5, $6::jsonb, $7, ${withinNodeRun('$8')}, ${withinNodeRun('$8')}
             FROM node_runs r JOIN executions e ON e.id = r.execution_id WHERE r.id = $1
           ON CONFLICT (node_run_id, step_id, attempt)
           DO UPDATE SET status = $4, exit_code = $5, outputs = $6::jsonb, error = $7,
                         finished_at = GREATEST(EXCLUDED.finished_at, step_runs.started_at)`,
          [
            event.nodeRunId,
            event.stepId,
            event.attempt,
            event.status,
            event.exitCode,
            JSON.stringify(event.outputs),
            event.error ?? null,
            reportedTime(at),
          ],
        );
        return undefined;
      case 'node.finished':
        return (await this.moveNodeRun(tx, event.nodeRunId, event.status, { reason: event.reason, at })) ? event.status : undefined;
      case 'step.log':
        return undefined;
    }
  }

  /** Ends every given execution whose node runs have all ended, with an outcome derived from them all. */
  private async finishCompleted(tx: EntityManager, executionIds: string[]): Promise<{ executionId: string; status: ExecutionStatus }[]> {
    const rows: { executionId: string; nodes: { node: string; status: NodeRunStatus }[]; cancelRequested: boolean }[] = await tx.query(
      `SELECT r.execution_id AS "executionId", json_agg(json_build_object('node', r.node, 'status', r.status)) AS nodes,
              bool_or(e.cancel_requested_at IS NOT NULL) AS "cancelRequested"
         FROM node_runs r JOIN executions e ON e.id = r.execution_id
        WHERE r.execution_id = ANY($1::uuid[]) AND e.status IN ('queued', 'running', 'waiting')
        GROUP BY r.execution_id`,
      [[...new Set(executionIds)]],
    );
    const finished: { executionId: string; status: ExecutionStatus }[] = [];
    for (const { executionId, nodes, cancelRequested } of rows) {
      if (!nodes.every((n) => isTerminalNodeRun(n.status))) continue;
      const status = executionOutcome(
        nodes.map((n) => n.status),
        cancelRequested,
      );
      const failedNodes = nodes.filter((n) => n.status !== 'succeeded').map((n) => `${n.node} ${n.status}`);
      if (await this.finish(executionId, status, failedNodes.length ? failedNodes.join(', ') : undefined, tx))
        finished.push({ executionId, status });
    }
    return finished;
  }

  /** The approval an execution needed and the decisions taken; undefined for a run that needed none. */
  async approvalOf(executionId: string): Promise<ApprovalView | undefined> {
    const [run] = (await this.db.query(`SELECT approval FROM executions WHERE id = $1`, [executionId])) as {
      approval: StoredApproval | null;
    }[];
    if (!run?.approval) return undefined;
    const decisions = await this.db.query(
      `SELECT username AS user, decision, comment, at FROM execution_decisions WHERE execution_id = $1 ORDER BY at`,
      [executionId],
    );
    const { required, approvers, requestedBy, timeoutAt } = run.approval;
    return { required, approvers, requestedBy, timeoutAt, decisions };
  }

  /** For an execution ended outside this service (an approval decided or timed out): tells the listeners. */
  announceFinished(executionId: string, status: ExecutionStatus): void {
    this.announce([], [{ executionId, status }]);
  }

  /** Tells this process's listeners (orchestrators, live log streams) what ended, after the commit. */
  private announce(
    runs: { executionId: string; nodeRunId: string; status: NodeRunStatus }[],
    executions: { executionId: string; status: ExecutionStatus }[],
  ): void {
    for (const run of runs) this.events.emit('nodeRunFinished', run);
    for (const { executionId, status } of executions) {
      this.metrics.executionsFinished.inc({ status });
      this.logger.log({ executionId, status }, 'execution finished');
      this.events.emit('executionFinished', { executionId, status });
    }
  }

  /**
   * Ends an execution; returns false if it had already ended. It ends now, and never before the last of its node
   * runs (on the same clock as theirs: the portal's, not the database's).
   */
  private async finish(executionId: string, status: ExecutionStatus, reason: string | undefined, tx: EntityManager): Promise<boolean> {
    const ended = await tx.query(
      `UPDATE executions e SET status = $2, reason = $3,
              finished_at = GREATEST($4::timestamptz, (SELECT max(r.finished_at) FROM node_runs r WHERE r.execution_id = e.id))
        WHERE e.id = $1 AND e.status = ANY($5::text[])
        RETURNING e.runbook_id AS "runbookId", extract(epoch FROM e.finished_at - e.created_at)::float8 AS seconds`,
      [executionId, status, reason ?? null, new Date(), executionStatesLeadingTo(status)],
    );
    const [row] = rowsOf<{ runbookId: string; seconds: number }>(ended);
    // From acceptance to the end: the time a caller waits, queue included.
    if (row) this.metrics.executionDuration.observe({ runbook: row.runbookId, status }, row.seconds);
    return row !== undefined;
  }

  /** Running executions whose cancel was asked for longer ago than `ms` (read every second: only those rows). */
  async cancelsUnconfirmedFor(ms: number): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM executions WHERE status = 'running' AND cancel_requested_at < now() - make_interval(secs => $1)`,
      [ms / 1000],
    );
    return rows.map((r) => r.id);
  }

  /** Executions waiting `queued`, on all replicas: what the queue bound (429) is checked against. */
  async queuedCount(): Promise<number> {
    const [{ count }] = await this.db.query(`SELECT count(*)::int AS count FROM executions WHERE status = 'queued'`);
    return count;
  }

  /** Executions of a concurrency key queued or running: what a runbook with `onLimit: refuse` is checked against. */
  async activeWithKey(key: string): Promise<number> {
    const [{ count }] = await this.db.query(
      `SELECT count(*)::int AS count FROM executions WHERE concurrency_key = $1 AND status IN ('queued', 'running', 'waiting')`,
      [key],
    );
    return count;
  }

  /**
   * Starts up to `slots` queued executions, oldest first, that the limits allow: their runbook's concurrency (per
   * key) and the per-node cap (`nodeMaxRuns` live node runs per node, 0 for none). Claims of all replicas are
   * serialized by an advisory lock, so that two replicas never both take the last place under a limit; each claimed
   * execution is `running`, driven by `replicaId`, and its sealed parameters leave the table.
   */
  async claimQueued(
    replicaId: string,
    slots: number,
    nodeMaxRuns: number,
    /** Told the node runs about to be claimed, before they are: the watchdog must know them as driven here. */
    onClaiming: (nodeRunIds: string[]) => void = () => undefined,
  ): Promise<ClaimedExecution[]> {
    if (slots <= 0) return [];
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${DISPATCH_CLAIM_LOCK})`);
      const candidates: { id: string; key: string | null; limit: number | null; nodes: string[]; nodeRunIds: string[] }[] = await tx.query(
        `SELECT e.id, e.concurrency_key AS key, e.concurrency_limit AS limit, array_agg(r.node) AS nodes, array_agg(r.id) AS "nodeRunIds"
           FROM executions e JOIN node_runs r ON r.execution_id = e.id
          WHERE e.status = 'queued'
          GROUP BY e.id ORDER BY e.created_at LIMIT $1`,
        [slots * 4],
      );
      if (candidates.length === 0) return [];
      const keys = [...new Set(candidates.map((c) => c.key).filter((k): k is string => k !== null))];
      const busyKeys = new Map<string, number>(
        keys.length === 0
          ? []
          : (
              await tx.query(
                `SELECT concurrency_key AS key, count(*)::int AS count FROM executions
                  WHERE concurrency_key = ANY($1) AND status IN ('running', 'waiting') GROUP BY 1`,
                [keys],
              )
            ).map((r: { key: string; count: number }) => [r.key, r.count]),
      );
      const busyNodes = new Map<string, number>(
        nodeMaxRuns === 0
          ? []
          : (
              await tx.query(
                `SELECT r.node, count(*)::int AS count FROM node_runs r JOIN executions e ON e.id = r.execution_id
                  WHERE e.status IN ('running', 'waiting') AND r.status IN ('queued', 'running', 'waiting')
                    AND r.node = ANY($1) GROUP BY 1`,
                [[...new Set(candidates.flatMap((c) => c.nodes))]],
              )
            ).map((r: { node: string; count: number }) => [r.node, r.count]),
      );
      const picked = pickClaimable(candidates, slots, busyKeys, busyNodes, nodeMaxRuns);
      if (picked.length === 0) return [];
      onClaiming(candidates.filter((c) => picked.includes(c.id)).flatMap((c) => c.nodeRunIds));
      // UPDATE ... RETURNING comes back from TypeORM as [rows, count]: rowsOf takes the rows.
      return rowsOf<ClaimedExecution>(
        await tx.query(
          `WITH p AS (SELECT id, sealed_params FROM executions WHERE id = ANY($1::uuid[]) AND status = 'queued' FOR UPDATE)
         UPDATE executions e SET status = 'running', started_at = GREATEST(clock_timestamp(), e.created_at), driven_by = $2,
                                 sealed_params = NULL
           FROM p WHERE e.id = p.id
         RETURNING e.id, e.runbook_id AS "runbookId", e.runbook_hash AS "runbookHash", e.timeout_ms AS "timeoutMs",
                   e.targets, p.sealed_params AS "sealedParams",
                   (SELECT json_agg(json_build_object('id', r.id, 'node', r.node, 'executor', r.executor) ORDER BY r.position)
                      FROM node_runs r WHERE r.execution_id = e.id) AS "nodeRuns"`,
          [picked, replicaId],
        ),
      );
    });
  }

  /** Ends executions queued longer than `maxWaitMs` (limits held by long runs, no replica free): nothing waits forever. */
  async expireQueued(maxWaitMs: number): Promise<void> {
    const stale: { executionId: string; id: string }[] = await this.db.query(
      `SELECT r.execution_id AS "executionId", r.id FROM node_runs r JOIN executions e ON e.id = r.execution_id
        WHERE e.status = 'queued' AND e.created_at < now() - make_interval(secs => $1) AND r.status = 'queued'`,
      [maxWaitMs / 1000],
    );
    const reason = `not started: waited in the queue longer than ${Math.round(maxWaitMs / 1000)} s (concurrency limit or no free capacity)`;
    for (const run of stale) {
      await this.endNodeRun(run.executionId, run.id, 'cancelled', reason, { status: 'queued', isDispatched: false, isDriverGone: false });
    }
  }

  /**
   * Node runs not ended yet, each with the replica driving its execution and whether that replica still
   * heartbeats (false for one that stopped, crashed or was never recorded).
   */
  liveNodeRuns(): Promise<LiveNodeRun[]> {
    return this.db.query(
      `SELECT r.id, r.execution_id AS "executionId", r.node, r.executor, r.status, r.dispatched_at AS "dispatchedAt",
              r.started_at AS "startedAt", e.timeout_ms AS "timeoutMs", e.created_at AS "createdAt",
              e.driven_by AS "drivenBy", ${isDriverAlive('$1')} AS "isDriverAlive"
         FROM node_runs r JOIN executions e ON e.id = r.execution_id
        -- An execution not started yet (queued, or waiting for approval) has no driver to lose: see expireQueued.
        WHERE r.status IN ('queued', 'running', 'waiting') AND e.started_at IS NOT NULL`,
      [this.replica.silenceLimitMs / 1000],
    );
  }
}

/** Serializes dispatch claims across replicas (an arbitrary constant of ours for pg_advisory_xact_lock). */
const DISPATCH_CLAIM_LOCK = 774_201;

/**
 * Which candidates (oldest first) may start now: at most `slots`, none past its concurrency limit or pushing a node
 * past `nodeMaxRuns`. The counts include what this pick already took.
 */
export function pickClaimable(
  candidates: { id: string; key: string | null; limit: number | null; nodes: string[] }[],
  slots: number,
  busyKeys: Map<string, number>,
  busyNodes: Map<string, number>,
  nodeMaxRuns: number,
): string[] {
  const keys = new Map(busyKeys);
  const nodes = new Map(busyNodes);
  const picked: string[] = [];
  for (const c of candidates) {
    if (picked.length >= slots) break;
    if (c.key !== null && c.limit !== null && (keys.get(c.key) ?? 0) >= c.limit) continue;
    if (nodeMaxRuns > 0 && c.nodes.some((n) => (nodes.get(n) ?? 0) >= nodeMaxRuns)) continue;
    picked.push(c.id);
    if (c.key !== null) keys.set(c.key, (keys.get(c.key) ?? 0) + 1);
    for (const n of c.nodes) nodes.set(n, (nodes.get(n) ?? 0) + 1);
  }
  return picked;
}

/**
 * SQL: whether the replica driving execution `e` heartbeat within the last `silenceSecs` (a query parameter)
 * seconds; false for one that stopped, crashed or was never recorded. One definition for the watchdog's view and
 * for the guard on its decisions.
 */
function isDriverAlive(silenceSecs: string): string {
  return `EXISTS (SELECT 1 FROM portal_replicas p WHERE p.id = e.driven_by AND p.seen_at > now() - make_interval(secs => ${silenceSecs}))`;
}

/*
 * The timeline. A reader expects a run's times nested: execution start <= node run start <= each step's start <=
 * its end <= node run end <= execution end. Node runs and steps are timed by the node's clock (its events' `at`),
 * the execution by the portal's, and events can arrive late, twice or out of order; so each time is placed at write
 * time inside the window its parent vouches for, and a parent's end is pushed past everything it holds. A node's
 * time is never later than when the portal heard it (a node clock running ahead), nor earlier than its execution
 * started (one running behind). The times as the node sent them stay in `node_events.at`.
 */

/** When the node says something happened, or now if that is later than now: the portal heard it now. */
function reportedTime(at: Date | undefined): Date {
  const heard = new Date();
  return at && at.getTime() < heard.getTime() ? at : heard;
}

/** SQL: the time `at` (a query parameter), not before the start of node run `r`'s execution. */
function notBeforeExecution(at: string): string {
  return `GREATEST(${at}::timestamptz, (SELECT x.started_at FROM executions x WHERE x.id = r.execution_id))`;
}

/** SQL: a step's time `at` (a query parameter) inside the window of its node run `r` of execution `e`. */
function withinNodeRun(at: string): string {
  return `LEAST(GREATEST(${at}::timestamptz, r.started_at, e.started_at), r.finished_at)`;
}
