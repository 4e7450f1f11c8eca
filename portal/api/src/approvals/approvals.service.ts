/**
 * Four-eyes approvals: a run whose runbook asks for approval waits `waiting`; approvers decide once each, and the
 * database decides the outcome (the execution row is locked while a decision is counted, so two approvers and a
 * rejecter racing settle it once). Enough approvals queue the run with its parameters as requested; one rejection
 * ends it `rejected`; no decision in time ends it `timed_out`. Restart-safe: everything is in the tables.
 */
import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Injectable,
  Logger,
  NotFoundException,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { namespaceOf, type Principal } from '../auth/permissions';
import { rowsOf } from '../core/database/rows';
import { DispatchQueueService } from '../dispatch/dispatch-queue.service';
import type { StoredApproval } from '../executions/execution.entity';
import { ExecutionsService, type ApprovalView } from '../executions/executions.service';
import { currentGrants, whyNotApprover } from './approvers';

const EXPIRE_EVERY_MS = 2000;

interface Waiting {
  id: string;
  runbookId: string;
  status: string;
  approval: StoredApproval | null;
}

@Injectable()
export class ApprovalsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ApprovalsService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly executions: ExecutionsService,
    private readonly queue: DispatchQueueService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () => void this.expire().catch((err) => this.logger.error({ err: String(err) }, 'approval timeouts failed')),
      EXPIRE_EVERY_MS,
    );
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async decide(executionId: string, principal: Principal, decision: 'approved' | 'rejected', comment?: string): Promise<ApprovalView> {
    if (decision === 'rejected' && !comment?.trim()) throw new BadRequestException('comment: required to reject (say why)');
    const grants = currentGrants(principal, await this.heldGrants(principal.username));
    const outcome = await this.db.transaction(async (tx) => {
      const [run] = (await tx.query(`SELECT id, runbook_id AS "runbookId", status, approval FROM executions WHERE id = $1 FOR UPDATE`, [
        executionId,
      ])) as Waiting[];
      if (!run) throw new NotFoundException(`execution "${executionId}" not found`);
      if (!run.approval) throw new ConflictException(`execution ${executionId} does not need approval`);
      if (run.status !== 'waiting') throw new ConflictException(`execution ${executionId} is ${run.status}: there is nothing to decide`);
      const refusal = whyNotApprover({ ...principal, roles: grants }, run.approval, namespaceOf(run.runbookId), decision);
      if (refusal) throw new ForbiddenException(refusal);
      const inserted = rowsOf(
        await tx.query(
          `INSERT INTO execution_decisions (execution_id, username, decision, comment, at) VALUES ($1, $2, $3, $4, now())
           ON CONFLICT DO NOTHING RETURNING username`,
          [executionId, principal.username, decision, comment?.trim() || null],
        ),
      );
      if (inserted.length === 0) throw new ConflictException(`${principal.username} has already decided execution ${executionId}`);
      if (decision === 'rejected') {
        await this.endUnstarted(tx, executionId, 'rejected', `rejected by ${principal.username}: ${comment!.trim()}`);
        return 'rejected' as const;
      }
      const [{ approvals }] = await tx.query(
        `SELECT count(*)::int AS approvals FROM execution_decisions WHERE execution_id = $1 AND decision = 'approved'`,
        [executionId],
      );
      if (approvals < run.approval.required) return 'waiting' as const;
      await tx.query(`UPDATE executions SET status = 'queued' WHERE id = $1 AND status = 'waiting'`, [executionId]);
      return 'queued' as const;
    });
    if (outcome === 'queued') this.queue.accepted();
    if (outcome === 'rejected') this.executions.announceFinished(executionId, 'rejected');
    return this.executions.approvalOf(executionId) as Promise<ApprovalView>;
  }

  /** Runs waiting for approval that the caller may decide now (not decided by them yet, not their own unless allowed). */
  async pendingFor(
    principal: Principal,
  ): Promise<{ id: string; runbook: string; actor: string; createdAt: Date; approval: ApprovalView }[]> {
    const grants = currentGrants(principal, await this.heldGrants(principal.username));
    const waiting: (Waiting & { actor: string; createdAt: Date })[] = await this.db.query(
      `SELECT e.id, e.runbook_id AS "runbookId", e.status, e.approval, e.actor, e.created_at AS "createdAt"
         FROM executions e
        WHERE e.status = 'waiting' AND e.approval IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM execution_decisions d WHERE d.execution_id = e.id AND d.username = $1)
        ORDER BY e.created_at`,
      [principal.username],
    );
    const mine = waiting.filter((w) => !whyNotApprover({ ...principal, roles: grants }, w.approval!, namespaceOf(w.runbookId), 'approved'));
    return Promise.all(
      mine.map(async (w) => ({
        id: w.id,
        runbook: w.runbookId,
        actor: w.actor,
        createdAt: w.createdAt,
        approval: (await this.executions.approvalOf(w.id))!,
      })),
    );
  }

  /** Ends runs whose approval did not come in time. */
  private async expire(): Promise<void> {
    const stale: { id: string }[] = await this.db.query(
      `SELECT id FROM executions WHERE status = 'waiting' AND approval IS NOT NULL AND (approval->>'timeoutAt')::timestamptz < now()`,
    );
    for (const { id } of stale) {
      const ended = await this.db.transaction((tx) => this.endUnstarted(tx, id, 'timed_out', 'approval not given in time'));
      if (ended) this.executions.announceFinished(id, 'timed_out');
    }
  }

  /** Ends a run that never started: its node runs `cancelled`, the execution in its final state with the reason. */
  private async endUnstarted(tx: EntityManager, executionId: string, status: 'rejected' | 'timed_out', reason: string): Promise<boolean> {
    const ended = rowsOf(
      await tx.query(
        `UPDATE executions SET status = $2, reason = $3, finished_at = GREATEST(now(), created_at)
          WHERE id = $1 AND status = 'waiting' RETURNING id`,
        [executionId, status, reason],
      ),
    );
    if (ended.length === 0) return false;
    await tx.query(
      `UPDATE node_runs SET status = 'cancelled', reason = $2, finished_at = GREATEST(now(), (SELECT created_at FROM executions WHERE id = $1))
        WHERE execution_id = $1 AND status = 'queued'`,
      [executionId, `not started: ${reason}`],
    );
    return true;
  }

  private async heldGrants(username: string) {
    const [user] = (await this.db.query(`SELECT roles FROM users WHERE username = $1`, [username])) as { roles: Principal['roles'] }[];
    return user?.roles ?? [];
  }
}
