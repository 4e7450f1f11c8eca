/**
 * Where a JSON text goes wrong, for the 400 answered to a malformed request body. V8's own messages name a position
 * only for some mistakes and quote the body for others; this scanner names the first offending character every
 * time, and never echoes the body. Iterative (an explicit stack), so a deeply nested body cannot overflow the stack.
 */

export interface JsonSyntaxError {
  /** Offset of the first offending character, in characters from the start of the body. */
  position: number;
  line: number;
  column: number;
  reason: string;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;
const LITERALS = ['true', 'false', 'null'];

/** The first syntax error in `text`, or undefined when it is valid JSON (an object or array when `requireContainer`). */
export function locateJsonSyntaxError(text: string, requireContainer = true): JsonSyntaxError | undefined {
  const found = scan(text, requireContainer);
  return found && { ...found, ...lineAndColumn(text, found.position) };
}

type Found = { position: number; reason: string } | undefined;

function scan(text: string, requireContainer: boolean): Found {
  const open: string[] = [];
  let i = skipWhitespace(text, 0);
  if (i >= text.length) return { position: i, reason: 'empty body' };
  if (requireContainer && text[i] !== '{' && text[i] !== '[') return { position: i, reason: 'expected an object or an array' };
  let state: 'value' | 'key' | 'after' = 'value';
  for (;;) {
    i = skipWhitespace(text, i);
    const c = text[i];
    if (state === 'value') {
      if (c === '{' || c === '[') {
        open.push(c);
        i = skipWhitespace(text, i + 1);
        if (text[i] === (c === '{' ? '}' : ']')) {
          open.pop();
          i++;
          state = 'after';
        } else state = c === '{' ? 'key' : 'value';
        continue;
      }
      const end = scanScalar(text, i);
      if (typeof end !== 'number') return end;
      i = end;
      state = 'after';
      continue;
    }
    if (state === 'key') {
      if (c !== '"')
        return { position: i, reason: c === undefined ? 'unexpected end of input' : 'expected a property name in double quotes' };
      const end = scanString(text, i);
      if (typeof end !== 'number') return end;
      i = skipWhitespace(text, end);
      if (text[i] !== ':') return { position: i, reason: "expected ':' after the property name" };
      i++;
      state = 'value';
      continue;
    }
    const top = open[open.length - 1];
    if (top === undefined)
      return i < text.length ? { position: i, reason: 'unexpected content after the end of the JSON value' } : undefined;
    const close = top === '{' ? '}' : ']';
    if (c === ',') {
      i++;
      state = top === '{' ? 'key' : 'value';
    } else if (c === close) {
      open.pop();
      i++;
    } else {
      return { position: i, reason: c === undefined ? 'unexpected end of input' : `expected ',' or '${close}'` };
    }
  }
}

/** A string, number or literal at `i`: the offset after it, or the error. */
function scanScalar(text: string, i: number): number | Found {
  const c = text[i];
  if (c === undefined) return { position: i, reason: 'unexpected end of input' };
  if (c === '"') return scanString(text, i);
  if (c === '-' || (c >= '0' && c <= '9')) {
    NUMBER.lastIndex = i;
    const match = NUMBER.exec(text);
    return match ? i + match[0].length : { position: i, reason: 'malformed number' };
  }
  const literal = LITERALS.find((word) => text.startsWith(word, i));
  if (literal) return i + literal.length;
  return { position: i, reason: `unexpected character ${describeChar(c)}` };
}

function scanString(text: string, start: number): number | Found {
  let i = start + 1;
  for (;;) {
    const c = text[i];
    if (c === undefined) return { position: i, reason: 'unterminated string' };
    if (c === '"') return i + 1;
    if (c === '\\') {
      const escaped = text[i + 1];
      if (ESCAPES.has(escaped)) i += 2;
      else if (escaped === 'u' && matchesAt(HEX4, text, i + 2)) i += 6;
      else return { position: i, reason: 'bad escape sequence in string' };
      continue;
    }
    if (c.charCodeAt(0) < 0x20) return { position: i, reason: 'control character in string (escape it)' };
    i++;
  }
}

function matchesAt(pattern: RegExp, text: string, i: number): boolean {
  pattern.lastIndex = i;
  return pattern.test(text);
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && WHITESPACE.has(text[i])) i++;
  return i;
}

function describeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x20 || code > 0x7e ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}` : `'${c}'`;
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1 };
}
