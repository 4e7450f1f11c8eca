/** When a failed delivery is tried again: the wait doubles from the notifier's `retry.backoff`, up to an hour. */

export const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;

/** The wait after attempt number `attempt` (1 for the first) failed. */
export function retryDelayMs(attempt: number, backoffMs: number): number {
  const exponent = Math.max(0, attempt - 1);
  // 2^exponent grows past any useful wait quickly: cap before multiplying, so it never overflows to Infinity.
  if (exponent >= 32) return MAX_RETRY_DELAY_MS;
  return Math.min(backoffMs * 2 ** exponent, MAX_RETRY_DELAY_MS);
}

/** Whether a delivery that failed its attempt number `attempt` has none left and ends `dead`. */
export function isOutOfAttempts(attempt: number, maxAttempts: number): boolean {
  return attempt >= maxAttempts;
}
