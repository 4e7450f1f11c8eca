import { BREAKER_WINDOW_MS, breakerWindowStart, decideFiring, decideResolved, isBreakerClosed } from './episodes';

const at = (seconds: number) => new Date(Date.UTC(2025, 10, 24, 10, 0, seconds));
const COOLDOWN_MS = 60_000;

describe('one remediation per firing episode', () => {
  it('remediates an episode seen for the first time', () => {
    expect(decideFiring(undefined, at(0), COOLDOWN_MS)).toEqual({ action: 'remediate' });
  });

  it('treats repeats within the cooldown as duplicates', () => {
    const episode = { remediatedAt: at(0), resolvedAt: null };
    expect(decideFiring(episode, at(2), COOLDOWN_MS)).toMatchObject({ action: 'duplicate' });
    expect(decideFiring(episode, at(59), COOLDOWN_MS)).toMatchObject({
      action: 'duplicate',
      reason: expect.stringContaining('cooldown 60 s'),
    });
  });

  it('remediates again when the episode still fires after the cooldown', () => {
    expect(decideFiring({ remediatedAt: at(0), resolvedAt: null }, at(60), COOLDOWN_MS)).toEqual({ action: 'remediate' });
  });

  it('never restarts a resolved episode, and retries one the breaker suppressed', () => {
    expect(decideFiring({ remediatedAt: at(0), resolvedAt: at(5) }, at(600), COOLDOWN_MS)).toMatchObject({ action: 'duplicate' });
    expect(decideFiring({ remediatedAt: null, resolvedAt: null }, at(1), COOLDOWN_MS)).toEqual({ action: 'remediate' });
  });
});

describe('resolved alerts', () => {
  it('run onResolved once, only for a remediated episode', () => {
    const remediated = { remediatedAt: at(0), resolvedAt: null };
    expect(decideResolved(remediated, true)).toEqual({ action: 'run-on-resolved' });
    expect(decideResolved(remediated, false)).toEqual({ action: 'close' });
    expect(decideResolved({ remediatedAt: null, resolvedAt: null }, true)).toEqual({ action: 'close' });
    expect(decideResolved(undefined, true)).toEqual({ action: 'close' });
    expect(decideResolved({ remediatedAt: at(0), resolvedAt: at(9) }, true)).toMatchObject({ action: 'duplicate' });
  });
});

describe('the circuit breaker', () => {
  it('counts the last hour, or since the last reset when that is later', () => {
    const now = at(0);
    expect(breakerWindowStart(now, null)).toEqual(new Date(now.getTime() - BREAKER_WINDOW_MS));
    expect(breakerWindowStart(now, new Date(now.getTime() - 1000))).toEqual(new Date(now.getTime() - 1000));
    expect(breakerWindowStart(now, new Date(now.getTime() - 2 * BREAKER_WINDOW_MS))).toEqual(new Date(now.getTime() - BREAKER_WINDOW_MS));
  });

  it('lets maxPerHour remediations through and stops the next', () => {
    expect(isBreakerClosed(0, 2)).toBe(true);
    expect(isBreakerClosed(1, 2)).toBe(true);
    expect(isBreakerClosed(2, 2)).toBe(false);
  });
});
