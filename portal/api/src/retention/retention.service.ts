/**
 * Retention: what Baton records grows with every run, schedule fire and alert, so records older than
 * BATON_RETENTION are deleted once an hour: finished executions with their node runs, steps and logs, job fire
 * claims (the newest of each job is kept: it tells the scheduler where to resume), processed hook deliveries, and
 * alert episodes and remediations. The audit log is never pruned (it is append-only by design); each pass that
 * deleted something says how much in an audit event. One replica prunes at a time (an advisory lock).
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { rowsOf } from '../core/database/rows';

const PRUNE_EVERY_MS = 60 * 60 * 1000;
/** The first pass waits for the start-up to settle. */
const FIRST_PRUNE_AFTER_MS = 60 * 1000;
/** Rows deleted per statement, so that no pass holds long locks on busy tables. */
const CHUNK = 1000;
/** pg_try_advisory_lock key: "baton-retention". */
const LOCK_KEY = 0x62617472;

export type PruneCounts = Record<'executions' | 'jobFires' | 'hookDeliveries' | 'alertEpisodes' | 'alertRemediations', number>;

@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private timers: NodeJS.Timeout[] = [];

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.retentionMs === undefined) return;
    const pass = () => void this.prune().catch((err) => this.logger.error({ err: String(err) }, 'pruning old records failed'));
    this.timers = [setTimeout(pass, FIRST_PRUNE_AFTER_MS).unref(), setInterval(pass, PRUNE_EVERY_MS).unref()];
  }

  onApplicationShutdown(): void {
    this.timers.forEach((t) => clearTimeout(t));
  }

  /** Deletes what is older than the retention; undefined when another replica is pruning right now. */
  async prune(): Promise<PruneCounts | undefined> {
    const retentionMs = this.config.retentionMs;
    if (retentionMs === undefined) return { executions: 0, jobFires: 0, hookDeliveries: 0, alertEpisodes: 0, alertRemediations: 0 };
    return this.db.transaction(async (tx) => {
      const [{ locked }] = await tx.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [LOCK_KEY]);
      if (!locked) return undefined;
      const cutoff = new Date(Date.now() - retentionMs);
      const chunked = async (sql: string) => {
        let total = 0;
        for (;;) {
          const deleted = rowsOf(await tx.query(sql, [cutoff, CHUNK])).length;
          total += deleted;
          if (deleted < CHUNK) return total;
        }
      };
      const counts: PruneCounts = {
        // Node runs, step runs and log events go with their execution (ON DELETE CASCADE).
        executions: await chunked(
          `DELETE FROM executions WHERE id IN (SELECT id FROM executions
             WHERE finished_at < $1 AND status NOT IN ('queued', 'running', 'waiting') LIMIT $2) RETURNING id`,
        ),
        jobFires: await chunked(
          `DELETE FROM job_fires f WHERE (f.job_id, f.fire_time) IN (SELECT job_id, fire_time FROM job_fires o
             WHERE o.claimed_at < $1 AND o.outcome <> 'claimed'
               AND o.fire_time < (SELECT max(fire_time) FROM job_fires n WHERE n.job_id = o.job_id) LIMIT $2)
           RETURNING f.job_id`,
        ),
        hookDeliveries: await chunked(
          `DELETE FROM hook_deliveries WHERE id IN (SELECT id FROM hook_deliveries
             WHERE received_at < $1 AND status <> 'pending' LIMIT $2) RETURNING id`,
        ),
        // An episode still firing (not resolved) is kept whatever its age: it stops a second remediation.
        alertEpisodes: await chunked(
          `DELETE FROM alert_episodes e WHERE (e.rule_id, e.fingerprint, e.starts_at) IN (SELECT rule_id, fingerprint, starts_at
             FROM alert_episodes WHERE resolved_at < $1 LIMIT $2) RETURNING e.rule_id`,
        ),
        alertRemediations: await chunked(
          `DELETE FROM alert_remediations WHERE id IN (SELECT id FROM alert_remediations WHERE started_at < $1 LIMIT $2) RETURNING id`,
        ),
      };
      if (Object.values(counts).some((n) => n > 0)) {
        this.logger.log({ ...counts, olderThan: cutoff.toISOString() }, 'pruned old records');
        await this.audit.record({
          actor: { type: 'system', name: 'retention' },
          action: 'retention.pruned',
          target: 'records',
          details: { ...counts, olderThan: cutoff.toISOString() },
        });
      }
      return counts;
    });
  }
}
