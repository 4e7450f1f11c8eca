/**
 * A minimal ANSI SGR parser for step output: colours (16, 256 and 24-bit), bold, dim, italic, underline, inverse.
 * Every other escape sequence (cursor moves, OSC titles) is dropped, never shown. The style carries over from one
 * line to the next, as in a terminal, so the caller keeps an AnsiStyle per output stream.
 */

export interface AnsiStyle {
  /** A CSS colour: `var(--ansi-1)` for the 16 palette colours, `rgb(...)` otherwise. */
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

export interface AnsiSegment {
  text: string;
  style: AnsiStyle;
}

// CSI ... final byte, OSC ... BEL/ST, or a lone two-character escape.
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b(?:\[([0-9;:?]*)([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;

/** Splits one line into styled segments, starting from `style` (not changed); returns the style in force at its end. */
export function parseAnsi(line: string, style: AnsiStyle = {}): { segments: AnsiSegment[]; style: AnsiStyle } {
  const segments: AnsiSegment[] = [];
  let current = style;
  let last = 0;
  ESCAPE.lastIndex = 0;
  for (let match = ESCAPE.exec(line); match !== null; match = ESCAPE.exec(line)) {
    pushText(segments, line.slice(last, match.index), current);
    last = ESCAPE.lastIndex;
    if (match[2] === 'm') current = applySgr(current, match[1]);
  }
  pushText(segments, line.slice(last), current);
  return { segments, style: current };
}

/** The line without any escape sequence: for search, download as text, and copy. */
export function stripAnsi(line: string): string {
  return line.includes('\x1b') ? line.replace(ESCAPE, '') : line;
}

function pushText(segments: AnsiSegment[], text: string, style: AnsiStyle): void {
  if (text !== '') segments.push({ text, style });
}

/** Applies one `ESC [ params m` to a style, returning a new style. */
export function applySgr(style: AnsiStyle, params: string): AnsiStyle {
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  const next: AnsiStyle = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === 0) {
      for (const key of Object.keys(next) as (keyof AnsiStyle)[]) delete next[key];
    } else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 7) next.inverse = true;
    else if (code === 22) {
      delete next.bold;
      delete next.dim;
    } else if (code === 23) delete next.italic;
    else if (code === 24) delete next.underline;
    else if (code === 27) delete next.inverse;
    else if (code >= 30 && code <= 37) next.fg = palette(code - 30);
    else if (code >= 90 && code <= 97) next.fg = palette(code - 90 + 8);
    else if (code === 39) delete next.fg;
    else if (code >= 40 && code <= 47) next.bg = palette(code - 40);
    else if (code >= 100 && code <= 107) next.bg = palette(code - 100 + 8);
    else if (code === 49) delete next.bg;
    else if (code === 38 || code === 48) {
      const extended = extendedColour(codes, i + 1);
      if (extended.colour) next[code === 38 ? 'fg' : 'bg'] = extended.colour;
      i = extended.nextIndex - 1;
    }
  }
  return next;
}

/** `38;5;n` or `38;2;r;g;b` starting after the 38/48. */
function extendedColour(codes: number[], at: number): { colour?: string; nextIndex: number } {
  if (codes[at] === 5 && codes[at + 1] !== undefined) return { colour: colour256(codes[at + 1]), nextIndex: at + 2 };
  if (codes[at] === 2 && codes[at + 3] !== undefined) {
    const [r, g, b] = codes.slice(at + 1, at + 4).map(clampByte);
    return { colour: `rgb(${r}, ${g}, ${b})`, nextIndex: at + 4 };
  }
  return { nextIndex: codes.length };
}

function palette(index: number): string {
  return `var(--ansi-${index})`;
}

/** The xterm 256-colour table: 16 palette colours, a 6x6x6 cube, 24 greys. */
export function colour256(n: number): string {
  if (n < 16) return palette(Math.max(0, n));
  if (n < 232) {
    const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
    const i = n - 16;
    return `rgb(${level(Math.floor(i / 36))}, ${level(Math.floor(i / 6) % 6)}, ${level(i % 6)})`;
  }
  const grey = 8 + (Math.min(n, 255) - 232) * 10;
  return `rgb(${grey}, ${grey}, ${grey})`;
}

function clampByte(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}

/** Inline CSS for a segment (inverse swaps the colours), and class names for the rest. */
export function segmentCss(style: AnsiStyle): { color: string | null; background: string | null; classes: string } {
  const fg = style.inverse ? (style.bg ?? 'var(--log-bg)') : style.fg;
  const bg = style.inverse ? (style.fg ?? 'var(--fg)') : style.bg;
  const classes = [style.bold && 'ansi-bold', style.dim && 'ansi-dim', style.italic && 'ansi-italic', style.underline && 'ansi-underline']
    .filter((c) => c)
    .join(' ');
  return { color: fg ?? null, background: bg ?? null, classes };
}
