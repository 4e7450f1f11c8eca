import { isOutOfAttempts, MAX_RETRY_DELAY_MS, retryDelayMs } from './retry-schedule';

describe('retry schedule', () => {
  it('doubles the wait from the backoff after each failed attempt', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 5000))).toEqual([5000, 10_000, 20_000, 40_000]);
  });

  it('never waits more than an hour, however many attempts', () => {
    expect(retryDelayMs(20, 5000)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(1000, 5000)).toBe(MAX_RETRY_DELAY_MS);
  });

  it('ends a delivery dead after its last attempt', () => {
    expect(isOutOfAttempts(2, 3)).toBe(false);
    expect(isOutOfAttempts(3, 3)).toBe(true);
  });
});
