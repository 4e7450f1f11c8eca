import { FireSchedule, scheduleProblem } from './fire-schedule';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('FireSchedule', () => {
  it('fires a 02:30 Europe/Berlin job once on the spring-forward day, at 03:00 local time', () => {
    // 29 March 2026: clocks go from 02:00 CET to 03:00 CEST; 02:30 does not exist that day.
    const schedule = new FireSchedule('30 2 * * *', 'Europe/Berlin');
    expect(iso(schedule.next(new Date('2026-03-27T12:00:00Z'), 4))).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first minute after the gap
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it('fires a 01:30 and a 02:30 Europe/Berlin job once on the fall-back day', () => {
    // 25 October 2026: clocks go from 03:00 CEST back to 02:00 CET; 02:00-03:00 happens twice.
    expect(iso(new FireSchedule('30 1 * * *', 'Europe/Berlin').next(new Date('2026-10-23T12:00:00Z'), 3))).toEqual([
      '2026-10-23T23:30:00.000Z',
      '2026-10-24T23:30:00.000Z', // 01:30 CEST on the 25th
      '2026-10-26T00:30:00.000Z', // 01:30 CET
    ]);
    expect(iso(new FireSchedule('30 2 * * *', 'Europe/Berlin').next(new Date('2026-10-23T12:00:00Z'), 3))).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST); the repeated one (CET) does not fire
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('fires an hourly job every real hour through the repeated hour', () => {
    expect(iso(new FireSchedule('0 * * * *', 'Europe/Berlin').next(new Date('2026-10-24T23:30:00Z'), 3))).toEqual([
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET
      '2026-10-25T02:00:00.000Z', // 03:00 CET
    ]);
  });

  it('reads the expression in its time zone', () => {
    expect(iso(new FireSchedule('0 9 * * mon-fri', 'America/New_York').next(new Date('2026-07-03T00:00:00Z'), 2))).toEqual([
      '2026-07-03T13:00:00.000Z', // Friday 09:00 EDT
      '2026-07-06T13:00:00.000Z', // Monday
    ]);
  });

  it('takes six fields as seconds first', () => {
    expect(iso(new FireSchedule('*/20 * * * * *', 'UTC').next(new Date('2026-01-01T00:00:00.500Z'), 3))).toEqual([
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:40.000Z',
      '2026-01-01T00:01:00.000Z',
    ]);
  });

  it('lists the fire times between two instants, excluding the first, and says when it stopped early', () => {
    const schedule = new FireSchedule('* * * * * *', 'UTC');
    const after = new Date('2026-01-01T00:00:00Z');
    expect(iso(schedule.between(after, new Date('2026-01-01T00:00:03Z'), 10).times)).toEqual([
      '2026-01-01T00:00:01.000Z',
      '2026-01-01T00:00:02.000Z',
      '2026-01-01T00:00:03.000Z',
    ]);
    expect(schedule.between(after, new Date('2026-01-02T00:00:00Z'), 5)).toMatchObject({ isTruncated: true });
  });
});

describe('scheduleProblem', () => {
  it('accepts a schedule that fires', () => expect(scheduleProblem('0 3 * * *', 'Europe/Berlin')).toBeNull());
  it('refuses one that never fires', () => expect(scheduleProblem('0 0 30 2 *', 'UTC')).toMatch(/never fires/));
});
