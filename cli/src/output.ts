/**
 * What the CLI prints: tables sized to the terminal or JSON (`--output json`), and colours only when the
 * stream is a terminal (and NO_COLOR is unset). Results go to stdout; progress and notes to stderr.
 */
import { CliError, EXIT } from './exit-codes';

export type OutputFormat = 'table' | 'json';

export interface Printer {
  format: OutputFormat;
  /** A result: the JSON of `value`, or the table/text from `render`. */
  result(value: unknown, render: () => string): void;
  /** A note for the person (stderr), never in the way of piped results. */
  note(text: string): void;
  out: Styles;
  err: Styles;
}

export interface Styles {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  /** Green, yellow or red for an execution or node status. */
  status(status: string): string;
}

export function parseOutputFormat(text: string): OutputFormat {
  if (text === 'table' || text === 'json') return text;
  throw new CliError(`--output must be table or json (got "${text}")`, EXIT.usage);
}

export function createPrinter(format: OutputFormat, options: { isColorAllowed: boolean }): Printer {
  const out = styles(options.isColorAllowed && process.stdout.isTTY === true);
  const err = styles(options.isColorAllowed && process.stderr.isTTY === true);
  return {
    format,
    out,
    err,
    result(value, render) {
      const text = format === 'json' ? JSON.stringify(value, null, 2) : render();
      if (text !== '') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    note(text) {
      process.stderr.write(`${text}\n`);
    },
  };
}

const SGR = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39] } as const;

export function styles(isOn: boolean): Styles {
  const paint = (codes: readonly [number, number]) => (text: string) => (isOn ? `\x1b[${codes[0]}m${text}\x1b[${codes[1]}m` : text);
  const s = { bold: paint(SGR.bold), dim: paint(SGR.dim), red: paint(SGR.red), green: paint(SGR.green), yellow: paint(SGR.yellow) };
  return {
    ...s,
    status(status) {
      if (['succeeded', 'online', 'accepted', 'completed'].includes(status)) return s.green(status);
      if (['queued', 'running', 'waiting', 'pending', 'pending_approval'].includes(status)) return s.yellow(status);
      return s.red(status);
    },
  };
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Shrinks first when the table is wider than the terminal (free text such as titles). */
  isFlexible?: boolean;
  /** Colours the cell after it has been sized (escape codes take no room on screen). */
  paint?: (text: string, row: T) => string;
}

/**
 * A plain text table. When `width` is given (a terminal), flexible columns are cut with "…" so that each row fits.
 */
export function table<T>(rows: T[], columns: Column<T>[], width?: number): string {
  if (rows.length === 0) return '';
  const cells = rows.map((row) => columns.map((c) => oneLine(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  if (width !== undefined) fit(widths, columns, width);
  const line = (values: string[], paint: (text: string, i: number) => string) =>
    values
      .map((v, i) => paint(pad(cut(v, widths[i]), i === values.length - 1 ? 0 : widths[i]), i))
      .join('  ')
      .trimEnd();
  const header = line(
    columns.map((c) => c.header),
    (t) => t,
  );
  const body = cells.map((r, rowIndex) => line(r, (text, i) => columns[i].paint?.(text, rows[rowIndex]) ?? text));
  return [header, ...body].join('\n');
}

/** Key: value lines, for one record. */
export function fields(entries: [string, string | undefined | null][]): string {
  const shown = entries.filter((e): e is [string, string] => e[1] !== undefined && e[1] !== null && e[1] !== '');
  const width = Math.max(...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n');
}

function fit(widths: number[], columns: { isFlexible?: boolean }[], width: number): void {
  const total = () => widths.reduce((sum, w) => sum + w, 0) + 2 * (widths.length - 1);
  const flexible = columns.map((c, i) => (c.isFlexible ? i : -1)).filter((i) => i >= 0);
  while (total() > width) {
    const widest = flexible.reduce((best, i) => (best === -1 || widths[i] > widths[best] ? i : best), -1);
    if (widest === -1 || widths[widest] <= 8) return;
    widths[widest] -= Math.min(total() - width, widths[widest] - 8);
  }
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

function pad(text: string, width: number): string {
  return text.padEnd(width);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** `2026-01-02T03:04:05.678Z` -> `2026-01-02 03:04:05` in local time; empty for none. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The time between two instants as `850ms`, `12.3s` or `4m05s`; empty when it has not started. */
export function elapsed(from: string | null | undefined, to: string | null | undefined): string {
  if (!from) return '';
  const ms = (to ? new Date(to) : new Date()).getTime() - new Date(from).getTime();
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

export function labelsText(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
