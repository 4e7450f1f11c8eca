/**
 * Jobs as the API answers them (`GET /api/v1/jobs`, `GET /api/v1/jobs/{id}`), and the pure pieces the Jobs page
 * shows: a schedule in one line, the next fire time, a fire's outcome in words and the status colour it takes.
 */
import type { Job } from '@baton/shared';

export type FireKind = 'schedule' | 'misfire' | 'manual';
export type FireOutcome = 'claimed' | 'started' | 'skipped' | 'failed';

/** A job of the list: its spec, where it was defined, and its next fire time (none while disabled). */
export interface JobView extends Omit<Job, 'apiVersion' | 'kind'> {
  sourceFile: string | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  nextFireTimes: string[];
}

/** One fire of a job, newest first. */
export interface JobFireView {
  fireTime: string;
  kind: FireKind;
  outcome: FireOutcome;
  reason?: string;
  execution?: string;
  /** A misfire standing for every fire time up to this one. */
  coversUntil?: string;
  claimedBy: string;
  claimedAt: string;
}

/** `GET /api/v1/jobs/{id}`: the next 5 fire times and the last 20 fires. */
export interface JobDetail extends JobView {
  lastFires: JobFireView[];
}

/** The schedule in one line: `30 2 * * * (Europe/Berlin)`. */
export function formatSchedule(schedule: { cron: string; timezone?: string }): string {
  return `${schedule.cron} (${schedule.timezone ?? 'UTC'})`;
}

/**
 * A fire time as the person's local date and time, and, when the job's zone differs, the same instant in the job's
 * zone too: `3/1/2025, 2:30:00 AM (Europe/Berlin: 01.03.2025, 02:30)`. The locale is a parameter for the tests.
 */
export function formatFireTime(value: string | null | undefined, timezone: string, locale?: string): string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const local = date.toLocaleString(locale);
  const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (timezone === localZone) return local;
  try {
    const inZone = date.toLocaleString(locale, { timeZone: timezone, dateStyle: 'short', timeStyle: 'short' });
    return `${local} (${timezone}: ${inZone})`;
  } catch {
    return local;
  }
}

/** The list's "next fire" cell: the first fire time, or why there is none. */
export function nextFireText(job: Pick<JobView, 'enabled' | 'nextFireTimes' | 'schedule'>, locale?: string): string {
  if (!job.enabled) return 'disabled';
  const next = job.nextFireTimes[0];
  return next ? formatFireTime(next, job.schedule.timezone, locale) : 'none';
}

/** What a fire did, in words: `started (run now)`, `skipped: previous run still going`, `failed: …`. */
export function describeFire(fire: Pick<JobFireView, 'kind' | 'outcome' | 'reason'>): string {
  const how = fire.kind === 'manual' ? ' (run now)' : fire.kind === 'misfire' ? ' (missed while the portal was down)' : '';
  const outcome = fire.outcome === 'claimed' ? 'claimed, starting' : fire.outcome;
  return fire.reason ? `${outcome}${how}: ${fire.reason}` : `${outcome}${how}`;
}

/** The status colour (styles.css) for a fire's outcome. */
export function fireStatusClass(outcome: FireOutcome): string {
  switch (outcome) {
    case 'started':
      return 'succeeded';
    case 'skipped':
      return 'skipped';
    case 'failed':
      return 'failed';
    case 'claimed':
      return 'pending';
  }
}

/** The concurrency policy in a few words, for the table's title attribute and the detail panel. */
export function describeConcurrency(concurrency: JobView['concurrency']): string {
  switch (concurrency) {
    case 'forbid':
      return 'forbid: a fire is skipped while the previous run goes on';
    case 'allow':
      return 'allow: runs may overlap';
    case 'replace':
      return 'replace: a fire cancels the previous run';
  }
}
