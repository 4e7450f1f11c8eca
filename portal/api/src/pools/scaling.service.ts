/**
 * Scaling actions: a request (from a person, an alert rule or a job) is decided under the pool's row lock
 * (`SELECT ... FOR UPDATE`) and `desired` is updated in the same transaction, so racing requests can never take a
 * pool past its bounds. A granted action runs the pool's provider runbook with `count` (and `nodes` on scale-in),
 * then waits until the live nodes reach the target or `settleTimeout` passes. Every step is audited.
 *
 * Actions move only by conditional UPDATEs (`WHERE status = <from>`), and a periodic check picks up actions in
 * `running` or `settling` whoever started them, so a portal that dies mid-action leaves nothing stuck.
 *
 * Jobs (scheduled) call `requestScale(pool, { by | to }, { requester: { type: 'job', job, fireTime }, reason })`
 * the same way alert rules do; the requester only decides the audit actor and that the cooldown refuses it.
 */
import {
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, In, Repository } from 'typeorm';
import { parseDuration, type ParamValue, type Pool, type PoolChange } from '@baton/shared';
import type { AuditActor } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { rowsOf } from '../core/database/rows';
import { EnrollmentTokensService } from '../fleet/enrollment-tokens.service';
import { DispatchService } from '../dispatch/dispatch.service';
import { ExecutionsService } from '../executions/executions.service';
import { NotificationsService } from '../notifications/notifications.service';
import { RunbooksService } from '../runbooks/runbooks.service';
import { PoolAction, PoolActionStatus, ScaleRequester, Verification } from './pool.entity';
import { PoolsService } from './pools.service';
import { decideScale, isSettled, pickNodes, type ScaleDecision } from './scaling';

export interface ScaleOptions {
  requester: ScaleRequester;
  reason: string;
  /** An admin acting during the cooldown. */
  isForced?: boolean;
}

const CHECK_MS = 1000;
/** An action granted but without a provider execution this long after is one whose portal died in between. */
const START_GRACE_MS = 30_000;
const LIVE: PoolActionStatus[] = ['running', 'settling'];
const FINISHED_EXECUTION = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

@Injectable()
export class ScalingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ScalingService.name);
  private timer?: NodeJS.Timeout;
  /** Actions this process is checking right now: one check at a time per action here; other replicas race safely. */
  private readonly checking = new Set<string>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(PoolAction) private readonly actions: Repository<PoolAction>,
    private readonly pools: PoolsService,
    private readonly dispatch: DispatchService,
    private readonly runbooks: RunbooksService,
    private readonly executions: ExecutionsService,
    private readonly audit: AuditService,
    private readonly enrollmentTokens: EnrollmentTokensService,
    private readonly http: HttpAdapterHost,
    private readonly notifications: NotificationsService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.executions.events.on('executionFinished', ({ executionId }) => {
      void this.actions
        .findOneBy({ executionId, status: 'running' })
        .then((action) => action && this.check(action))
        .catch((err) => this.logger.error({ err, executionId }, 'could not follow a provider execution'));
    });
    this.timer = setInterval(() => void this.checkLive().catch((err) => this.logger.error({ err }, 'pool action check failed')), CHECK_MS);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * Asks a pool to change size. Returns the action (running, pending_approval, or for automatic requests refused);
   * a person's request that cannot be made is an HTTP error saying why (409 bounds or cooldown, 403 force).
   */
  async requestScale(poolId: string, change: Omit<PoolChange, 'pool'>, options: ScaleOptions): Promise<PoolAction> {
    const record = await this.pools.record(poolId);
    const live = await this.pools.liveNodes(record.content);
    const request = { by: change.by, to: change.to, isForced: options.isForced };
    const { action, decision } = await this.db.transaction(async (tx) => {
      const pool = await this.lockPool(tx, poolId);
      const desired = pool.desired ?? live.length;
      const decision = decideScale(this.snapshot(pool.content, desired, pool.lastActionAt), request, options.requester, new Date());
      if (decision.kind === 'refuse' && !decision.isRecorded) return { decision, action: undefined };
      const status: PoolActionStatus =
        decision.kind === 'grant' ? 'running' : decision.kind === 'approval' ? 'pending_approval' : 'refused';
      const nodes = decision.kind === 'grant' ? await this.nodesToRemove(tx, pool.content, decision, live) : [];
      if (decision.kind === 'grant') await this.setDesired(tx, poolId, decision.to);
      const action = this.actions.create({
        id: randomUUID(),
        poolId,
        status,
        requestedBy: options.requester,
        request: change.to !== undefined ? { to: change.to } : { by: change.by },
        reason: options.reason,
        isForced: options.isForced === true,
        from: decision.from,
        to: decision.to,
        nodes,
        executionId: null,
        decidedBy: null,
        message: decision.kind === 'refuse' ? decision.message : null,
        verification: null,
        createdAt: new Date(),
        startedAt: decision.kind === 'grant' ? new Date() : null,
        settleStartedAt: null,
        finishedAt: decision.kind === 'refuse' ? new Date() : null,
      });
      await tx.getRepository(PoolAction).insert(action);
      return { decision, action };
    });
    if (!action) {
      if (decision.kind !== 'refuse') throw new Error('unreachable');
      throw decision.status === 403 ? new ForbiddenException(decision.message) : new ConflictException(decision.message);
    }
    await this.record(
      action,
      action.status === 'refused' ? 'pool.scale.refused' : 'pool.scale.requested',
      this.actorOf(action.requestedBy),
    );
    if (action.status === 'running') await this.startProvider(action, record.content);
    return this.getAction(poolId, action.id);
  }

  /** An admin's approval: the bounds are checked again against the pool as it is now, then the action runs. */
  async approve(poolId: string, actionId: string, admin: string): Promise<PoolAction> {
    const record = await this.pools.record(poolId);
    const live = await this.pools.liveNodes(record.content);
    const granted = await this.db.transaction(async (tx) => {
      const pool = await this.lockPool(tx, poolId);
      const action = await this.pendingAction(tx, poolId, actionId);
      const desired = pool.desired ?? live.length;
      const decision = decideScale(
        this.snapshot(pool.content, desired, pool.lastActionAt),
        action.request,
        action.requestedBy,
        new Date(),
        true,
      );
      if (decision.kind !== 'grant')
        throw new ConflictException(decision.kind === 'refuse' ? `cannot approve: ${decision.message}` : 'cannot approve');
      const nodes = await this.nodesToRemove(tx, pool.content, decision, live);
      await this.setDesired(tx, poolId, decision.to);
      await tx.query(
        `UPDATE pool_actions SET status = 'running', from_size = $2, to_size = $3, nodes = $4::jsonb, decided_by = $5, started_at = now()
          WHERE id = $1`,
        [actionId, decision.from, decision.to, JSON.stringify(nodes), admin],
      );
      return true;
    });
    const action = await this.getAction(poolId, actionId);
    if (granted) await this.record(action, 'pool.scale.approved', { type: 'user', name: admin });
    await this.startProvider(action, record.content);
    return this.getAction(poolId, actionId);
  }

  async reject(poolId: string, actionId: string, admin: string, reason?: string): Promise<PoolAction> {
    const result = await this.db.query(
      `UPDATE pool_actions SET status = 'rejected', decided_by = $3, message = $4, finished_at = now()
        WHERE id = $1 AND pool_id = $2 AND status = 'pending_approval' RETURNING id`,
      [actionId, poolId, admin, reason ?? `rejected by ${admin}`],
    );
    const action = await this.getAction(poolId, actionId);
    if (rowsOf(result).length === 0) throw new ConflictException(`action "${actionId}" is ${action.status}, not pending_approval`);
    await this.record(action, 'pool.scale.rejected', { type: 'user', name: admin });
    return action;
  }

  async listActions(poolId: string, limit = 100): Promise<PoolAction[]> {
    await this.pools.record(poolId);
    return this.actions.find({ where: { poolId }, order: { createdAt: 'DESC' }, take: limit });
  }

  async getAction(poolId: string, actionId: string): Promise<PoolAction> {
    const action = await this.actions.findOneBy({ id: actionId, poolId });
    if (!action) throw new NotFoundException(`action "${actionId}" of pool "${poolId}" not found`);
    return action;
  }

  // -------------------------------------------------------------------------------------------
  // Deciding

  private async lockPool(tx: EntityManager, poolId: string): Promise<{ content: Pool; desired: number | null; lastActionAt: Date | null }> {
    const [row]: { content: Pool; desired: number | null; last_action_at: Date | null }[] = await tx.query(
      `SELECT content, desired, last_action_at FROM pools WHERE id = $1 FOR UPDATE`,
      [poolId],
    );
    if (!row) throw new NotFoundException(`pool "${poolId}" not found`);
    return { content: row.content, desired: row.desired, lastActionAt: row.last_action_at };
  }

  private snapshot(pool: Pool, desired: number, lastActionAt: Date | null) {
    return {
      min: pool.min,
      max: pool.max,
      desired,
      lastActionAt,
      cooldownMs: parseDuration(pool.cooldown),
      operatorLimit: pool.operatorLimit,
    };
  }

  private async setDesired(tx: EntityManager, poolId: string, desired: number): Promise<void> {
    await tx.query(`UPDATE pools SET desired = $2, last_action_at = now() WHERE id = $1`, [poolId, desired]);
  }

  private async pendingAction(tx: EntityManager, poolId: string, actionId: string): Promise<PoolAction> {
    const action = await tx.getRepository(PoolAction).findOne({ where: { id: actionId, poolId }, lock: { mode: 'pessimistic_write' } });
    if (!action) throw new NotFoundException(`action "${actionId}" of pool "${poolId}" not found`);
    if (action.status !== 'pending_approval') throw new ConflictException(`action "${actionId}" is ${action.status}, not pending_approval`);
    return action;
  }

  /**
   * On scale-in, the nodes to remove: picked among the live ones, leaving out nodes another running action is
   * already removing (read under the pool lock, so two scale-ins never name the same node).
   */
  private async nodesToRemove(
    tx: EntityManager,
    pool: Pool,
    decision: Extract<ScaleDecision, { kind: 'grant' }>,
    live: { name: string; registeredAt: Date }[],
  ): Promise<string[]> {
    if (decision.to >= decision.from) return [];
    const others = await tx.getRepository(PoolAction).find({ where: { poolId: pool.id, status: In(LIVE) }, select: { nodes: true } });
    const leaving = new Set(others.flatMap((a) => a.nodes));
    const busy = new Set((await this.executions.liveNodeRuns()).map((r) => r.node));
    const candidates = live.filter((n) => !leaving.has(n.name)).map((n) => ({ ...n, isBusy: busy.has(n.name) }));
    return pickNodes(candidates, decision.from - decision.to, pool.scaleIn.pick);
  }

  // -------------------------------------------------------------------------------------------
  // Running the provider

  private async startProvider(action: PoolAction, pool: Pool): Promise<void> {
    const isOut = action.to > action.from;
    const provider = isOut ? pool.scaleOut : pool.scaleIn;
    try {
      const runbook = (await this.runbooks.get(provider.runbook)).content.params ?? {};
      const count = isOut ? action.to - action.from : action.nodes.length;
      const context: Record<string, ParamValue> = {
        portal_url: this.portalUrl(),
        // The portal's working directory: the checkout when started with `npm start`, where the demo finds the agent.
        portal_home: process.cwd(),
        ...(isOut && 'enroll_token' in runbook ? { enroll_token: await this.enrollmentToken(pool, action, count) } : {}),
        ...(provider.params ?? {}),
        pool: pool.id,
        count,
        nodes: action.nodes.join(','),
        desired: action.to,
      };
      // Only what the provider declares: a runbook refuses parameters it does not know.
      const params = Object.fromEntries(Object.entries(context).filter(([name]) => Object.hasOwn(runbook, name)));
      const execution = await this.dispatch.start({
        runbookId: provider.runbook,
        params,
        trigger: { type: 'scaling', pool: pool.id },
        actor: this.actorOf(action.requestedBy).name,
      });
      await this.db.query(`UPDATE pool_actions SET execution_id = $2 WHERE id = $1 AND status = 'running'`, [action.id, execution.id]);
      this.logger.log(
        { pool: pool.id, action: action.id, executionId: execution.id, from: action.from, to: action.to },
        'pool provider started',
      );
    } catch (err) {
      await this.fail(action, 'running', `the provider runbook ${provider.runbook} could not start: ${messageOf(err)}`, true);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Following actions to their end

  private async checkLive(): Promise<void> {
    for (const action of await this.actions.findBy({ status: In(LIVE) })) await this.check(action);
  }

  private async check(action: PoolAction): Promise<void> {
    if (this.checking.has(action.id)) return;
    this.checking.add(action.id);
    try {
      if (action.status === 'running') await this.checkRunning(action);
      else if (action.status === 'settling') await this.checkSettling(action);
    } finally {
      this.checking.delete(action.id);
    }
  }

  private async checkRunning(action: PoolAction): Promise<void> {
    if (!action.executionId) {
      const startedAt = action.startedAt?.getTime() ?? action.createdAt.getTime();
      if (Date.now() - startedAt > START_GRACE_MS)
        await this.fail(action, 'running', 'the portal stopped before it started the provider runbook', true);
      return;
    }
    const execution = await this.executions.get(action.executionId);
    if (!FINISHED_EXECUTION.has(execution.status)) return;
    if (execution.status !== 'succeeded') {
      const why = execution.reason ? `: ${execution.reason}` : '';
      await this.fail(action, 'running', `the provider runbook ${execution.runbookId} ended ${execution.status}${why}`, true);
      return;
    }
    const moved = await this.move(action.id, 'running', 'settling', { settle_started_at: new Date() });
    if (moved) await this.checkSettling({ ...action, status: 'settling', settleStartedAt: new Date() });
  }

  private async checkSettling(action: PoolAction): Promise<void> {
    const record = await this.pools.record(action.poolId).catch(() => undefined);
    if (!record) {
      await this.fail(action, 'settling', 'the pool was deleted while its action settled', false);
      return;
    }
    const live = await this.pools.liveNodes(record.content);
    const verification: Verification = {
      target: action.to,
      actual: live.length,
      nodes: live.map((n) => n.name),
      at: new Date().toISOString(),
    };
    if (isSettled(action.from, action.to, live.length)) {
      if (await this.move(action.id, 'settling', 'succeeded', { verification: JSON.stringify(verification), finished_at: new Date() })) {
        await this.record({ ...action, status: 'succeeded', verification }, 'pool.scale.succeeded', { type: 'system', name: 'pools' });
      }
      return;
    }
    const settleTimeoutMs = parseDuration(record.content.settleTimeout);
    const since = action.settleStartedAt?.getTime() ?? Date.now();
    if (Date.now() - since <= settleTimeoutMs) return;
    const selector = Object.entries(record.content.selector.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const message =
      `the provider succeeded but after settleTimeout ${record.content.settleTimeout} ${live.length} live node(s) match ${selector}, ` +
      `target ${action.to} (seen: ${live.map((n) => n.name).join(', ') || 'none'})`;
    // `desired` stays: the provider accepted the new size; what is missing is nodes, which the record now says.
    await this.fail(action, 'settling', message, false, verification);
  }

  /** Ends an action `failed` (once, whoever gets there first); a provider failure also gives back its change to `desired`. */
  private async fail(
    action: PoolAction,
    from: PoolActionStatus,
    message: string,
    isRollback: boolean,
    verification?: Verification,
  ): Promise<void> {
    const isFailed = await this.db.transaction(async (tx) => {
      const moved = await this.move(
        action.id,
        from,
        'failed',
        { message, finished_at: new Date(), verification: verification ? JSON.stringify(verification) : null },
        tx,
      );
      if (moved && isRollback) {
        await tx.query(`UPDATE pools SET desired = GREATEST(0, desired - $2::int) WHERE id = $1 AND desired IS NOT NULL`, [
          action.poolId,
          action.to - action.from,
        ]);
      }
      // Told to notifiers in the same transaction: once per failed action, whichever replica ends it.
      if (moved) await this.notifications.publishPoolActionFailed(this.failureFacts(action, message), tx);
      return moved;
    });
    if (!isFailed) return;
    this.logger.warn({ pool: action.poolId, action: action.id, message }, 'pool action failed');
    await this.record(
      { ...action, status: 'failed', message, verification: verification ?? null },
      'pool.scale.failed',
      { type: 'system', name: 'pools' },
      {
        isDesiredRolledBack: isRollback,
      },
    );
  }

  private async move(
    actionId: string,
    from: PoolActionStatus,
    to: PoolActionStatus,
    set: Record<string, unknown>,
    tx: EntityManager = this.db.manager,
  ): Promise<boolean> {
    // Column names come from this file only; values are parameters.
    const columns = Object.keys(set);
    const assignments = columns.map((c, i) => `, ${c} = $${i + 4}`).join('');
    const result = await tx.query(`UPDATE pool_actions SET status = $2${assignments} WHERE id = $1 AND status = $3 RETURNING id`, [
      actionId,
      to,
      from,
      ...columns.map((c) => set[c]),
    ]);
    return rowsOf(result).length > 0;
  }

  /** What a `pool.action.failed` notification says, and what notifiers match it on. */
  private failureFacts(action: PoolAction, message: string) {
    return {
      pool: action.poolId,
      id: action.id,
      from: action.from,
      to: action.to,
      message,
      ...(action.executionId ? { executionId: action.executionId } : {}),
      ...requesterFacts(action.requestedBy),
    };
  }

  /**
   * A token for the nodes one scale-out adds: auto-accepting (the pool's bounds and approvals already decided), one
   * use per node, valid until the action's verification is over, and the pool's selector labels pinned so that the
   * new nodes can claim no other pool's labels.
   */
  private async enrollmentToken(pool: Pool, action: PoolAction, count: number): Promise<string> {
    const minutes = Math.ceil(parseDuration(pool.settleTimeout) / 60_000) + 10;
    const { token } = await this.enrollmentTokens.create(
      {
        expiresIn: `${minutes}m`,
        maxUses: count,
        autoAccept: true,
        labels: pool.selector.labels,
        description: `pool ${pool.id}, action ${action.id}`,
      },
      `pool:${pool.id}`,
    );
    return token;
  }

  /** Where agents a provider starts enroll: BATON_PUBLIC_URL, or this portal's own address. */
  private portalUrl(): string {
    if (this.config.publicUrl) return this.config.publicUrl;
    const address = this.http.httpAdapter?.getHttpServer()?.address() as { port?: number } | null;
    return `http://127.0.0.1:${address?.port ?? this.config.port}`;
  }

  // -------------------------------------------------------------------------------------------
  // Audit

  private actorOf(requester: ScaleRequester): AuditActor {
    switch (requester.type) {
      case 'user':
        return { type: requester.token ? 'token' : 'user', name: requester.user };
      case 'alert':
        return { type: 'webhook', name: requester.hook };
      case 'job':
        return { type: 'schedule', name: requester.job };
    }
  }

  private async record(action: PoolAction, event: string, actor: AuditActor, extra: Record<string, unknown> = {}): Promise<void> {
    await this.audit.record({
      actor,
      action: event,
      target: `pool:${action.poolId}`,
      details: {
        action: action.id,
        status: action.status,
        requestedBy: action.requestedBy,
        reason: action.reason,
        from: action.from,
        to: action.to,
        ...(action.nodes.length ? { nodes: action.nodes } : {}),
        ...(action.executionId ? { executionId: action.executionId } : {}),
        ...(action.message ? { message: action.message } : {}),
        ...(action.verification ? { verification: action.verification } : {}),
        ...(action.isForced ? { isForced: true } : {}),
        ...extra,
      },
    });
  }
}

/** Who asked for a pool action, in words and as the trigger type a notifier's `match.triggers` names. */
function requesterFacts(requester: ScaleRequester): {
  requestedBy: string;
  trigger: 'user' | 'token' | 'webhook' | 'schedule';
  job?: string;
} {
  switch (requester.type) {
    case 'user':
      return requester.token
        ? { requestedBy: `API token of ${requester.user}`, trigger: 'token' }
        : { requestedBy: `user ${requester.user}`, trigger: 'user' };
    case 'alert':
      return { requestedBy: `alert rule ${requester.rule} (hook ${requester.hook})`, trigger: 'webhook' };
    case 'job':
      return { requestedBy: `job ${requester.job}`, trigger: 'schedule', job: requester.job };
  }
}

function messageOf(err: unknown): string {
  if (err && typeof err === 'object' && 'getResponse' in err && typeof err.getResponse === 'function') {
    const response = err.getResponse() as { message?: unknown } | string;
    const message = typeof response === 'object' ? response.message : response;
    return Array.isArray(message) ? message.join('; ') : String(message);
  }
  return err instanceof Error ? err.message : String(err);
}
