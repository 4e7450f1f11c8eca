/** Durations as written in runbooks: `500ms`, `30s`, `15m`, `2h`, `1d`, or combined like `1h30m`. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

export function isDuration(text: string): boolean {
  return DURATION.test(text);
}

/** Milliseconds in a duration; throws with the offending text when it is not one. */
export function parseDuration(text: string): number {
  if (!isDuration(text)) throw new Error(`"${text}" is not a duration (expected e.g. 500ms, 30s, 15m, 2h)`);
  let totalMs = 0;
  for (const [, amount, unit] of text.matchAll(PART)) totalMs += Number(amount) * UNIT_MS[unit];
  return Math.round(totalMs);
}
