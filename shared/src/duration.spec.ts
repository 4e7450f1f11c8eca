import { isDuration, parseDuration } from './duration';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
  ])('reads %s as %d milliseconds', (text, expectedMs) => {
    expect(isDuration(text)).toBe(true);
    expect(parseDuration(text)).toBe(expectedMs);
  });

  it.each(['', '10', 's', '5x', '-1s', '1 m', '30 s', 'ms10'])('does not accept %p as a duration', (text) => {
    expect(isDuration(text)).toBe(false);
  });

  it('names the offending text when asked to read a non-duration', () => {
    expect(() => parseDuration('5x')).toThrow('"5x" is not a duration');
  });
});
