/**
 * Fire times of a job: a cron expression read in an IANA time zone. The maths (including daylight-saving gaps and
 * repeated hours) is the `cron` package's; this wrapper only fixes how Baton walks it: always from the previous
 * fire time, never from "now", so a wall-clock time repeated when clocks go back fires once, and a late replica
 * still sees every fire time it owes.
 */
import { CronTime } from 'cron';

export class FireSchedule {
  private readonly cronTime: CronTime;

  /** Throws (with the cron package's message) on an expression or zone it cannot use. */
  constructor(
    readonly cron: string,
    readonly timezone: string,
  ) {
    this.cronTime = new CronTime(cron, timezone);
  }

  /** The first fire time strictly after `after`; undefined when there is none in the next years (e.g. 30 February). */
  nextAfter(after: Date): Date | undefined {
    try {
      return this.cronTime.getNextDateFrom(after, this.timezone).toJSDate();
    } catch {
      return undefined;
    }
  }

  /** The next `count` fire times after `after`. */
  next(after: Date, count: number): Date[] {
    const times: Date[] = [];
    let from = after;
    for (let i = 0; i < count; i++) {
      const next = this.nextAfter(from);
      if (!next) break;
      times.push(next);
      from = next;
    }
    return times;
  }

  /**
   * The fire times in (after, until], oldest first, at most `limit` of them (a per-second job left alone for a week
   * owes 600,000): `isTruncated` says when there were more.
   */
  between(after: Date, until: Date, limit: number): { times: Date[]; isTruncated: boolean } {
    const times: Date[] = [];
    let from = after;
    for (;;) {
      const next = this.nextAfter(from);
      if (!next || next > until) return { times, isTruncated: false };
      if (times.length === limit) return { times, isTruncated: true };
      times.push(next);
      from = next;
    }
  }
}

/** What is wrong with a schedule the portal cannot fire, or null: the API refuses such a job with this message. */
export function scheduleProblem(cron: string, timezone: string, now = new Date()): string | null {
  let schedule: FireSchedule;
  try {
    schedule = new FireSchedule(cron, timezone);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return schedule.nextAfter(now) ? null : 'never fires (no matching date in the next years)';
}
