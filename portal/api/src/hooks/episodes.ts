/**
 * The loop guards of alert remediation, as pure decisions over stored state: one remediation per firing episode
 * (rule, fingerprint, startsAt) until it resolves or the cooldown passes, and a per-rule circuit breaker counting
 * the remediations started in the last hour. The service takes a per-rule lock, reads the state and applies these.
 */

export const BREAKER_WINDOW_MS = 3_600_000;

/** A firing episode as stored: when it was remediated, and whether it has resolved. */
export interface EpisodeState {
  remediatedAt: Date | null;
  resolvedAt: Date | null;
}

export type FiringDecision = { action: 'remediate' } | { action: 'duplicate'; reason: string };

/**
 * Whether a firing alert starts a remediation. Alertmanager repeats a firing alert every repeat_interval and on every
 * group change; all of those belong to the episode already remediated. An episode still firing after the cooldown is
 * remediated again (the first attempt did not help). An episode never remediated (the breaker was open) is tried again.
 */
export function decideFiring(episode: EpisodeState | undefined, now: Date, cooldownMs: number): FiringDecision {
  if (!episode) return { action: 'remediate' };
  if (episode.resolvedAt) return { action: 'duplicate', reason: 'this episode has already resolved' };
  if (!episode.remediatedAt) return { action: 'remediate' };
  const sinceMs = now.getTime() - episode.remediatedAt.getTime();
  if (sinceMs >= cooldownMs) return { action: 'remediate' };
  return {
    action: 'duplicate',
    reason: `already remediated ${Math.round(sinceMs / 1000)} s ago; cooldown ${Math.round(cooldownMs / 1000)} s`,
  };
}

export type ResolvedDecision = { action: 'run-on-resolved' } | { action: 'close' } | { action: 'duplicate'; reason: string };

/** What a resolved alert does: runs `onResolved` once per episode, and only for an episode that was remediated. */
export function decideResolved(episode: EpisodeState | undefined, hasOnResolved: boolean): ResolvedDecision {
  if (episode?.resolvedAt) return { action: 'duplicate', reason: 'this episode has already resolved' };
  if (hasOnResolved && episode?.remediatedAt) return { action: 'run-on-resolved' };
  return { action: 'close' };
}

/** The start of the breaker's window: an hour ago, or the last admin reset if that is later. */
export function breakerWindowStart(now: Date, resetAt: Date | null): Date {
  const hourAgo = new Date(now.getTime() - BREAKER_WINDOW_MS);
  return resetAt && resetAt > hourAgo ? resetAt : hourAgo;
}

/** Whether the breaker lets one more remediation start. */
export function isBreakerClosed(startedInWindow: number, maxPerHour: number): boolean {
  return startedInWindow < maxPerHour;
}
