import { cronProblem, timeZoneProblem } from './cron';

describe('cronProblem', () => {
  it.each([
    '* * * * *',
    '*/5 * * * *',
    '30 2 * * *',
    '0 9-17 * * mon-fri',
    '0 0 1,15 jan,jul *',
    '* * * * * *',
    '*/10 0 3 * * 0,7',
    '5-50/5 * * * *',
  ])('accepts %s', (expression) => expect(cronProblem(expression)).toBeNull());

  it.each([
    ['* * * *', 'needs 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got 4'],
    ['* * * * * * *', 'needs 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got 7'],
    ['60 * * * *', 'minute field "60": 60 is outside 0-59'],
    ['* * 0 * *', 'day of month field "0": 0 is outside 1-31'],
    ['* * * 13 *', 'month field "13": 13 is outside 1-12'],
    ['*/0 * * * *', 'minute field "*/0": a step of 0 never fires'],
    ['10-5 * * * *', 'minute field "10-5": range 10-5 runs backwards'],
    ['* * * * fun', 'day of week field "fun": "fun" is not a number or a name (sun, mon, tue, wed, thu, fri, sat)'],
    ['1,,2 * * * *', 'minute field "1,,2": "" is not a value, a range (a-b), a step (*/n, a-b/n) or a list of those'],
    ['L * * * *', 'minute field "l": "l" is not a number'],
  ])('refuses %s', (expression, problem) => expect(cronProblem(expression)).toBe(problem));
});

describe('timeZoneProblem', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'])('accepts %s', (zone) => expect(timeZoneProblem(zone)).toBeNull());

  it('refuses an unknown zone', () => {
    expect(timeZoneProblem('Mars/Olympus')).toMatch(/unknown time zone "Mars\/Olympus"/);
  });
});
