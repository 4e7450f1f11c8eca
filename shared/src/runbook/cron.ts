/**
 * Checks of a Job's schedule that the schema, the API and the UI's editor share: is a cron expression well
 * formed (5 fields, or 6 with seconds first), and is a time zone a known IANA name. Syntax only: the portal
 * computes fire times with the `cron` package, which accepts everything these checks accept. Kept free of
 * dependencies so that the agent and the browser bundle do not carry a date library they never use.
 */

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTH_NAMES = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DAY_NAMES = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

const SECOND: CronField = { name: 'second', min: 0, max: 59 };
const FIVE_FIELDS: CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  // 0 and 7 are both Sunday.
  { name: 'day of week', min: 0, max: 7, names: DAY_NAMES },
];

const ITEM = /^(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:\/(\d+))?$/;

/** What is wrong with a cron expression, or null when it is well formed. */
export function cronProblem(expression: string): string | null {
  const parts = expression.trim().toLowerCase().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    return `needs 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got ${parts.length}`;
  }
  const fields = parts.length === 6 ? [SECOND, ...FIVE_FIELDS] : FIVE_FIELDS;
  for (let i = 0; i < fields.length; i++) {
    const problem = fieldProblem(parts[i], fields[i]);
    if (problem) return `${fields[i].name} field "${parts[i]}": ${problem}`;
  }
  return null;
}

function fieldProblem(text: string, field: CronField): string | null {
  for (const item of text.split(',')) {
    const match = ITEM.exec(item);
    if (!match) return `"${item}" is not a value, a range (a-b), a step (*/n, a-b/n) or a list of those`;
    const [, start, end, step] = match;
    if (step !== undefined && Number(step) === 0) return 'a step of 0 never fires';
    if (start === '*') {
      if (end !== undefined) return '"*" cannot start a range';
      continue;
    }
    const low = valueOf(start, field);
    if (typeof low === 'string') return low;
    if (end === undefined) continue;
    const high = valueOf(end, field);
    if (typeof high === 'string') return high;
    if (low > high) return `range ${start}-${end} runs backwards`;
  }
  return null;
}

function valueOf(text: string, field: CronField): number | string {
  const value = /^\d+$/.test(text) ? Number(text) : field.names?.[text as keyof typeof field.names];
  if (value === undefined) {
    const names = field.names ? ` or a name (${Object.keys(field.names).join(', ')})` : '';
    return `"${text}" is not a number${names}`;
  }
  if (value < field.min || value > field.max) return `${value} is outside ${field.min}-${field.max}`;
  return value;
}

/** What is wrong with a time zone name, or null when it is a known IANA zone such as Europe/Berlin or UTC. */
export function timeZoneProblem(timeZone: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return null;
  } catch {
    return `unknown time zone "${timeZone}"; use an IANA name such as UTC, Europe/Berlin or America/New_York`;
  }
}
