/**
 * The scheduler: fires every enabled job at each of its fire times, exactly once however many portal replicas
 * share the database.
 *
 * Every replica runs the same loop over all jobs: one timer, armed for the earliest next fire time. When it goes
 * off, the replica claims every due (job, fire time) in one `INSERT ... ON CONFLICT DO NOTHING RETURNING` into
 * job_fires, whose primary key is (job_id, fire_time): each fire time is won by exactly one replica, and only the
 * winner starts the execution. Losing costs one statement; a replica that dies just stops trying, and the others
 * keep winning. Fire times are walked from the previous fire time (never from "now"), so a late tick still claims
 * every fire time it owes and a wall-clock time repeated when clocks go back fires once.
 *
 * Fire times missed while no replica ran (found when a job enters a replica's schedule, from the job's last claim)
 * follow the job's `misfire`: `skip` records one skipped fire standing for them all, `runOnce` runs once for them
 * all. That fire is claimed like any other, so replicas starting together handle it once.
 *
 * Why one loop rather than a CronJob per job (@nestjs/schedule): jobs due in the same second are claimed in one
 * statement instead of one round trip each, and the fire time claimed is the one computed, not "whenever the timer
 * ran". (@nestjs/schedule 12 is also published as an ES module only, which our CommonJS build cannot import.)
 */
import { HttpException, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Job } from '@baton/shared';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/permissions';
import { MetricsService } from '../core/metrics.service';
import { ReplicaService } from '../core/replica.service';
import { DispatchService } from '../dispatch/dispatch.service';
import type { Trigger } from '../executions/execution.entity';
import { FireSchedule } from './fire-schedule';
import type { FireKind, FireOutcome, JobRecord } from './job.entity';
import { JobsService } from './jobs.service';

/** How often a replica looks for jobs changed by another replica (its own changes apply at once). */
const SYNC_MS = 1000;
/** Fire times at most this old when a job enters the schedule are fired late; older ones are misfires. */
const GRACE_MS = 5000;
/** A tick fires at most this many overdue fire times of one job (after a long stall), then jumps to now. */
const MAX_CATCH_UP = 100;
/** Misfires are counted up to here; a per-second job left alone for a week owes 600,000. */
const MAX_MISFIRES_COUNTED = 10_000;
/** The timer is re-armed at least this often, so a wall-clock jump is noticed. */
const MAX_TIMER_MS = 60_000;
/** A claim not started after this long belongs to a replica that died between claiming and starting. */
const STALE_CLAIM_SECONDS = 60;

interface ScheduledJob {
  record: JobRecord;
  schedule: FireSchedule;
  nextFireTime: Date | undefined;
}

interface Fire {
  job: Job;
  fireTime: Date;
  kind: FireKind;
  reason?: string;
  /** For a misfire: the end of the stretch of missed fire times it stands for. */
  coversUntil?: Date;
}

export interface FireResult {
  outcome: Exclude<FireOutcome, 'claimed'>;
  reason?: string;
  executionId?: string;
}

@Injectable()
export class JobScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobScheduler.name);
  private readonly scheduled = new Map<string, ScheduledJob>();
  private timer?: NodeJS.Timeout;
  private syncTimer?: NodeJS.Timeout;
  private isStopped = false;
  private jobsVersion = '';
  private syncing?: Promise<void>;
  private isSyncRequested = false;
  private readonly onJobsChanged = () => this.requestSync(true);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly jobs: JobsService,
    private readonly dispatch: DispatchService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    /** Names this replica in the claims it wins. */
    private readonly replica: ReplicaService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.jobs.events.on('changed', this.onJobsChanged);
    await this.sync(true);
    if (this.isStopped) return; // shut down while the first sync ran
    // Timers never keep the process alive on their own: shutdown clears them, and a test's exit must not wait.
    this.syncTimer = setInterval(() => this.requestSync(false), SYNC_MS).unref();
  }

  onApplicationShutdown(): void {
    this.isStopped = true;
    clearTimeout(this.timer);
    clearInterval(this.syncTimer);
    this.jobs.events.off('changed', this.onJobsChanged);
  }

  /** The next fire times this replica has computed for a job (none when disabled or never firing). */
  nextFireTimes(record: JobRecord, count: number): Date[] {
    if (!record.enabled) return [];
    const entry = this.scheduled.get(record.id);
    const schedule = entry?.schedule ?? new FireSchedule(record.content.schedule.cron, record.content.schedule.timezone);
    const first = entry?.nextFireTime;
    if (!first) return schedule.next(new Date(), count);
    return [first, ...schedule.next(first, count - 1)];
  }

  /**
   * Runs a job now for a person (`POST /api/v1/jobs/{id}/run`), under its concurrency policy. The caller's right to
   * run the runbook is checked by the controller. Errors from starting (bad parameters, no node) are thrown as is.
   */
  async runNow(record: JobRecord, principal: Principal): Promise<FireResult> {
    const fire: Fire = { job: record.content, fireTime: new Date(), kind: 'manual', reason: `run now by ${principal.username}` };
    const [won] = await this.claim([fire]);
    if (!won) return { outcome: 'skipped', reason: 'another run was requested at the same instant' };
    const trigger: Trigger = principal.tokenId
      ? { type: 'token', token: principal.tokenId, user: principal.username, job: record.id }
      : { type: 'user', user: principal.username, job: record.id };
    const { result, error } = await this.start(fire, trigger, principal.username);
    if (error instanceof HttpException) throw error;
    return result;
  }

  // -------------------------------------------------------------------------------------------
  // Keeping the schedule in step with the jobs table.

  private requestSync(isForced: boolean): void {
    if (this.isStopped) return;
    if (this.syncing) {
      this.isSyncRequested ||= isForced;
      return;
    }
    this.syncing = this.sync(isForced)
      .catch((err) => {
        if (!this.isStopped) this.logger.error({ err }, 'could not read the jobs');
      })
      .finally(() => {
        this.syncing = undefined;
        if (this.isSyncRequested) {
          this.isSyncRequested = false;
          this.requestSync(true);
        }
      });
  }

  private async sync(isForced: boolean): Promise<void> {
    await this.failStaleClaims();
    const [{ version }]: { version: string }[] = await this.db.query(
      `SELECT count(*) || ':' || coalesce(max(updated_at)::text, '') AS version FROM jobs`,
    );
    if (!isForced && version === this.jobsVersion) return;
    this.jobsVersion = version;

    const records = (await this.jobs.all()).filter((r) => r.enabled);
    const entering: JobRecord[] = [];
    const present = new Set(records.map((r) => r.id));
    for (const id of this.scheduled.keys()) if (!present.has(id)) this.scheduled.delete(id);
    for (const record of records) {
      const entry = this.scheduled.get(record.id);
      if (entry && isSameSchedule(entry.record, record)) entry.record = record;
      else entering.push(record);
    }
    await this.enterSchedule(entering);
    this.arm();
  }

  /**
   * Jobs new to this replica (or whose schedule changed) start from their last claimed fire time: fire times since
   * then that are older than the grace period are misfires, younger ones are fired now, late.
   */
  private async enterSchedule(records: JobRecord[]): Promise<void> {
    if (records.length === 0) return;
    const lastClaims = await this.lastClaims(records.map((r) => r.id));
    const windowEnd = new Date(Date.now() - GRACE_MS);
    for (const record of records) {
      let schedule: FireSchedule;
      try {
        schedule = new FireSchedule(record.content.schedule.cron, record.content.schedule.timezone);
      } catch (err) {
        this.logger.error({ err, job: record.id }, `job ${record.id} has a schedule the portal cannot use; it will not fire`);
        this.scheduled.delete(record.id);
        continue;
      }
      const owedSince = latest(lastClaims.get(record.id), record.scheduledSince);
      const from = latest(owedSince, windowEnd);
      this.scheduled.set(record.id, { record, schedule, nextFireTime: schedule.nextAfter(from) });
      if (owedSince < windowEnd)
        void this.handleMisfires(record, schedule, owedSince, windowEnd).catch((err) => this.failed(err, record.id));
    }
  }

  /** The fire time each job is known to be done up to: its latest claim, or the end of its latest misfire. */
  private async lastClaims(jobIds: string[]): Promise<Map<string, Date>> {
    const rows: { id: string; last: Date | null }[] = await this.db.query(
      `SELECT j.id, greatest(
                (SELECT max(fire_time) FROM job_fires f WHERE f.job_id = j.id),
                (SELECT max(covers_until) FROM job_fires f WHERE f.job_id = j.id AND covers_until IS NOT NULL)) AS last
         FROM unnest($1::text[]) AS j(id)`,
      [jobIds],
    );
    return new Map(rows.filter((r) => r.last !== null).map((r) => [r.id, new Date(r.last!)]));
  }

  private async handleMisfires(record: JobRecord, schedule: FireSchedule, after: Date, until: Date): Promise<void> {
    const { times, isTruncated } = schedule.between(after, until, MAX_MISFIRES_COUNTED);
    if (times.length === 0) return;
    const count = isTruncated ? `more than ${MAX_MISFIRES_COUNTED}` : String(times.length);
    const span = `${times[0].toISOString()} to ${times.at(-1)!.toISOString()}${isTruncated ? ' and later' : ''}`;
    const job = record.content;
    // Keyed by the first missed fire time and covering up to `until`: replicas starting together compute the same key.
    const fire: Fire = { job, fireTime: times[0], kind: 'misfire', coversUntil: until };
    if (job.misfire === 'runOnce') {
      fire.reason = `runs once for ${count} fire time(s) missed while no portal was running (${span})`;
      const [won] = await this.claim([fire]);
      if (won) await this.start(won, scheduleTrigger(job, won.fireTime), scheduleActor(job));
      return;
    }
    fire.reason = `skipped ${count} fire time(s) missed while no portal was running (${span})`;
    const [won] = await this.claim([fire], 'skipped');
    if (!won) return;
    this.metrics.jobFires.inc({ outcome: 'skipped' });
    this.logger.warn({ job: job.id, missed: count }, `job ${job.id}: ${fire.reason}`);
    await this.audit.record({
      actor: { type: 'schedule', name: job.id },
      action: 'job.misfire.skipped',
      target: `job:${job.id}`,
      details: { missed: isTruncated ? `>${MAX_MISFIRES_COUNTED}` : times.length, first: times[0], last: times.at(-1), until },
    });
  }

  /** A replica that died between claiming and starting leaves a claim behind: say so instead of leaving it open. */
  private async failStaleClaims(): Promise<void> {
    await this.db.query(
      `UPDATE job_fires SET outcome = 'failed',
              reason = 'the portal replica that claimed it (' || claimed_by || ') stopped before starting it'
        WHERE outcome = 'claimed' AND claimed_at < now() - make_interval(secs => $1)`,
      [STALE_CLAIM_SECONDS],
    );
  }

  // -------------------------------------------------------------------------------------------
  // The loop.

  private arm(): void {
    clearTimeout(this.timer);
    if (this.isStopped) return;
    let earliest = Infinity;
    for (const entry of this.scheduled.values()) {
      if (entry.nextFireTime && entry.nextFireTime.getTime() < earliest) earliest = entry.nextFireTime.getTime();
    }
    if (earliest === Infinity) return;
    const delayMs = Math.min(Math.max(earliest - Date.now(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.tick(), delayMs).unref();
  }

  /** Takes every due fire time off the schedule (advancing each job to its next one), re-arms, then fires them. */
  private tick(): void {
    const now = new Date();
    const due: Fire[] = [];
    for (const entry of this.scheduled.values()) {
      let taken = 0;
      while (entry.nextFireTime && entry.nextFireTime <= now && taken < MAX_CATCH_UP) {
        due.push({ job: entry.record.content, fireTime: entry.nextFireTime, kind: 'schedule' });
        entry.nextFireTime = entry.schedule.nextAfter(entry.nextFireTime);
        taken++;
      }
      if (taken === MAX_CATCH_UP) {
        this.logger.warn({ job: entry.record.id }, `job ${entry.record.id}: more than ${MAX_CATCH_UP} fire times overdue; jumping to now`);
        entry.nextFireTime = entry.schedule.nextAfter(now);
      }
    }
    this.arm();
    if (due.length > 0) void this.fireAll(due).catch((err) => this.logger.error({ err, fires: due.length }, 'could not claim fire times'));
  }

  private async fireAll(due: Fire[]): Promise<void> {
    const won = await this.claim(due);
    await Promise.all(won.map((fire) => this.start(fire, scheduleTrigger(fire.job, fire.fireTime), scheduleActor(fire.job))));
  }

  /**
   * Claims fire times in one statement; returns those this replica won. A job disabled or deleted meanwhile (by any
   * replica) is not claimed, except for a run now.
   */
  private async claim(fires: Fire[], outcome: 'claimed' | 'skipped' = 'claimed'): Promise<Fire[]> {
    const rows: { job_id: string; fire_time: Date }[] = await this.db.query(
      `INSERT INTO job_fires (job_id, fire_time, kind, outcome, reason, covers_until, claimed_by)
       SELECT f.job_id, f.fire_time, f.kind, $6, f.reason, f.covers_until, $7
         FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::timestamptz[])
                AS f(job_id, fire_time, kind, reason, covers_until)
         JOIN jobs j ON j.id = f.job_id AND (j.enabled OR f.kind = 'manual')
       ON CONFLICT DO NOTHING
       RETURNING job_id, fire_time`,
      [
        fires.map((f) => f.job.id),
        fires.map((f) => f.fireTime.toISOString()),
        fires.map((f) => f.kind),
        fires.map((f) => f.reason ?? null),
        fires.map((f) => f.coversUntil?.toISOString() ?? null),
        outcome,
        this.replica.id,
      ],
    );
    const won = new Set(rows.map((r) => `${r.job_id}@${new Date(r.fire_time).getTime()}`));
    return fires.filter((f) => won.has(`${f.job.id}@${f.fireTime.getTime()}`));
  }

  /** Starts the execution of a won fire under the job's concurrency policy, and records what came of it. */
  private async start(fire: Fire, trigger: Trigger, actor: string): Promise<{ result: FireResult; error?: unknown }> {
    const job = fire.job;
    let result: FireResult;
    let error: unknown;
    try {
      const earlier = job.concurrency === 'allow' ? [] : await this.earlierLiveRuns(job.id, fire.fireTime);
      if (job.concurrency === 'forbid' && earlier.length > 0) {
        result = { outcome: 'skipped', reason: `the previous run is still going (${earlier.map(describeRun).join(', ')})` };
      } else {
        for (const run of earlier) {
          if (run.executionId)
            await this.dispatch.cancel(run.executionId, `replaced by the run of job ${job.id} for ${fire.fireTime.toISOString()}`);
        }
        const execution = await this.dispatch.start({
          runbookId: job.runbook,
          params: job.params ?? {},
          targets: job.targets,
          trigger,
          actor,
        });
        result = { outcome: 'started', executionId: execution.id, ...(fire.reason ? { reason: fire.reason } : {}) };
        if (fire.kind === 'schedule') {
          this.metrics.jobLateness.observe(((execution.startedAt ?? execution.createdAt).getTime() - fire.fireTime.getTime()) / 1000);
        }
      }
    } catch (err) {
      error = err;
      result = { outcome: 'failed', reason: err instanceof Error ? err.message : String(err) };
    }
    await this.recordOutcome(job.id, fire.fireTime, result);
    this.metrics.jobFires.inc({ outcome: result.outcome });
    if (result.outcome !== 'started') {
      this.logger.warn(
        { job: job.id, fireTime: fire.fireTime, reason: result.reason },
        `job ${job.id} ${result.outcome}: ${result.reason}`,
      );
      await this.audit
        .record({
          actor: { type: 'schedule', name: job.id },
          action: result.outcome === 'skipped' ? 'job.skipped' : 'job.failed',
          target: `job:${job.id}`,
          details: { fireTime: fire.fireTime, kind: fire.kind, reason: result.reason },
        })
        .catch((err) => this.failed(err, job.id));
    }
    return { result, error };
  }

  /** Runs of the job still going, and fires claimed before this one but not started yet (by a live replica). */
  private async earlierLiveRuns(jobId: string, fireTime: Date): Promise<{ executionId: string | null; fireTime: Date | null }[]> {
    return this.db.query(
      `SELECT id AS "executionId", NULL::timestamptz AS "fireTime" FROM executions
        WHERE status IN ('queued', 'running', 'waiting') AND trigger->>'job' = $1
       UNION ALL
       SELECT NULL, fire_time FROM job_fires
        WHERE job_id = $1 AND outcome = 'claimed' AND fire_time < $2 AND claimed_at > now() - make_interval(secs => $3)`,
      [jobId, fireTime.toISOString(), STALE_CLAIM_SECONDS],
    );
  }

  private async recordOutcome(jobId: string, fireTime: Date, result: FireResult): Promise<void> {
    await this.db.query(
      `UPDATE job_fires SET outcome = $3, reason = coalesce($4, reason), execution_id = $5 WHERE job_id = $1 AND fire_time = $2`,
      [jobId, fireTime.toISOString(), result.outcome, result.reason ?? null, result.executionId ?? null],
    );
  }

  private failed(err: unknown, jobId: string): void {
    this.logger.error({ err, job: jobId }, `job ${jobId}: could not record a fire`);
  }
}

function scheduleTrigger(job: Job, fireTime: Date): Trigger {
  return { type: 'schedule', job: job.id, fireTime: fireTime.toISOString() };
}

function scheduleActor(job: Job): string {
  return `schedule:${job.id}`;
}

function describeRun(run: { executionId: string | null; fireTime: Date | null }): string {
  return run.executionId ? `execution ${run.executionId}` : `fire of ${new Date(run.fireTime!).toISOString()} being started`;
}

function isSameSchedule(a: JobRecord, b: JobRecord): boolean {
  return (
    a.scheduledSince.getTime() === b.scheduledSince.getTime() &&
    a.content.schedule.cron === b.content.schedule.cron &&
    a.content.schedule.timezone === b.content.schedule.timezone
  );
}

function latest(a: Date | undefined, b: Date): Date {
  return a && a > b ? a : b;
}
