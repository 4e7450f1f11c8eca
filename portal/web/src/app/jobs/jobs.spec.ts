import { describeConcurrency, describeFire, fireStatusClass, formatFireTime, formatSchedule, nextFireText } from './jobs';

const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const otherZone = localZone === 'Asia/Tokyo' ? 'Europe/Berlin' : 'Asia/Tokyo';

describe('schedule and fire times', () => {
  it('writes the cron expression with its time zone, UTC by default', () => {
    expect(formatSchedule({ cron: '30 2 * * *', timezone: 'Europe/Berlin' })).toBe('30 2 * * * (Europe/Berlin)');
    expect(formatSchedule({ cron: '*/10 * * * * *' })).toBe('*/10 * * * * * (UTC)');
  });

  it('shows a fire time locally, and in the job zone when that differs', () => {
    const at = '2025-03-01T01:30:00Z';
    expect(formatFireTime(at, localZone, 'en-US')).toBe(new Date(at).toLocaleString('en-US'));
    const shown = formatFireTime(at, otherZone, 'en-US');
    expect(shown.startsWith(new Date(at).toLocaleString('en-US'))).toBe(true);
    expect(shown).toContain(`(${otherZone}: `);
    expect(formatFireTime('2025-03-01T01:30:00Z', 'Europe/Berlin', 'de-DE')).toContain('Europe/Berlin: 01.03.25, 02:30');
  });

  it('falls back to a dash, the raw value, or local time for an unknown zone', () => {
    expect(formatFireTime(null, 'UTC')).toBe('—');
    expect(formatFireTime('not a date', 'UTC')).toBe('not a date');
    const at = '2025-03-01T01:30:00Z';
    expect(formatFireTime(at, 'Nowhere/Else', 'en-US')).toBe(new Date(at).toLocaleString('en-US'));
  });

  it('says why a job has no next fire time', () => {
    const schedule = { cron: '0 3 * * *', timezone: localZone };
    expect(nextFireText({ enabled: false, nextFireTimes: [], schedule })).toBe('disabled');
    expect(nextFireText({ enabled: true, nextFireTimes: [], schedule })).toBe('none');
    const at = '2025-03-01T03:00:00Z';
    expect(nextFireText({ enabled: true, nextFireTimes: [at], schedule }, 'en-US')).toBe(new Date(at).toLocaleString('en-US'));
  });
});

describe('fires', () => {
  it('says what a fire did, how it came and why', () => {
    expect(describeFire({ kind: 'schedule', outcome: 'started' })).toBe('started');
    expect(describeFire({ kind: 'manual', outcome: 'started' })).toBe('started (run now)');
    expect(describeFire({ kind: 'schedule', outcome: 'skipped', reason: 'previous run still going' })).toBe(
      'skipped: previous run still going',
    );
    expect(describeFire({ kind: 'misfire', outcome: 'skipped' })).toBe('skipped (missed while the portal was down)');
    expect(describeFire({ kind: 'schedule', outcome: 'claimed' })).toBe('claimed, starting');
  });

  it('colours outcomes like execution statuses', () => {
    expect(fireStatusClass('started')).toBe('succeeded');
    expect(fireStatusClass('skipped')).toBe('skipped');
    expect(fireStatusClass('failed')).toBe('failed');
    expect(fireStatusClass('claimed')).toBe('pending');
  });

  it('explains the concurrency policies', () => {
    expect(describeConcurrency('forbid')).toMatch(/^forbid: /);
    expect(describeConcurrency('allow')).toMatch(/overlap/);
    expect(describeConcurrency('replace')).toMatch(/cancels/);
  });
});
