/**
 * The execution log as lines: SSE `log` chunks ({node, step, stream, data}) cut at newlines, per node and stream
 * (a chunk may end mid-line, and two nodes' output interleaves), each line parsed for ANSI colours once.
 * Append-only and mutable on purpose: a 100,000-line log is not copied per chunk; the view takes a snapshot per frame.
 */
import { AnsiSegment, AnsiStyle, parseAnsi, stripAnsi } from './ansi';

export interface LogChunk {
  node: string;
  step: string;
  stream: string;
  data: string;
}

export interface LogLine {
  /** 1-based position in the whole log. */
  number: number;
  node: string;
  step: string;
  stream: string;
  /** Without escape sequences: what search and download use. */
  text: string;
  segments: AnsiSegment[];
}

interface Pending {
  step: string;
  text: string;
  style: AnsiStyle;
}

export class LogBuffer {
  readonly lines: LogLine[] = [];
  private readonly pending = new Map<string, Pending>();

  append(chunk: LogChunk): void {
    const key = `${chunk.node}\u0000${chunk.stream}`;
    const source = this.pending.get(key) ?? { step: chunk.step, text: '', style: {} };
    if (source.text !== '' && source.step !== chunk.step) this.emit(chunk.node, chunk.stream, source); // a step ended without a newline
    source.step = chunk.step;
    const parts = (source.text + chunk.data).split('\n');
    source.text = parts.pop() ?? '';
    for (const part of parts) this.emit(chunk.node, chunk.stream, { ...source, text: part }, source);
    this.pending.set(key, source);
  }

  /** At the end of the execution: the last lines that never got their newline. */
  finish(): void {
    for (const [key, source] of this.pending) {
      const [node, stream] = key.split('\u0000');
      if (source.text !== '') this.emit(node, stream, source);
    }
    this.pending.clear();
  }

  clear(): void {
    this.lines.length = 0;
    this.pending.clear();
  }

  /** The whole log as text for download; with several nodes each line says whose it is. */
  toText(): string {
    const nodes = new Set(this.lines.map((l) => l.node));
    const withNode = nodes.size > 1;
    return this.lines.map((l) => (withNode ? `[${l.node}] ${l.text}` : l.text)).join('\n') + (this.lines.length > 0 ? '\n' : '');
  }

  private emit(node: string, stream: string, line: Pending, carry: Pending = line): void {
    // A carriage return redraws the line (progress bars): keep what a terminal would finally show.
    const raw = line.text.endsWith('\r') ? line.text.slice(0, -1) : line.text;
    const shown = raw.includes('\r') ? raw.slice(raw.lastIndexOf('\r') + 1) : raw;
    const parsed = parseAnsi(shown, carry.style);
    carry.style = parsed.style;
    line.text = '';
    this.lines.push({ number: this.lines.length + 1, node, step: line.step, stream, text: stripAnsi(shown), segments: parsed.segments });
  }
}

export interface LogFilter {
  /** Only this node's lines; null for all. */
  node: string | null;
  /** Only lines containing this text (case-insensitive); empty for all. */
  query: string;
}

/** The lines a filter keeps; the same array when nothing is filtered, so the common case costs nothing. */
export function filterLines(lines: readonly LogLine[], filter: LogFilter): readonly LogLine[] {
  const query = filter.query.toLowerCase();
  if (filter.node === null && query === '') return lines;
  return lines.filter((l) => (filter.node === null || l.node === filter.node) && (query === '' || l.text.toLowerCase().includes(query)));
}

export interface MarkedSegment extends AnsiSegment {
  isMatch: boolean;
}

/** Splits a line's segments so that each occurrence of the query (case-insensitive) is its own marked segment. */
export function markMatches(segments: AnsiSegment[], query: string): MarkedSegment[] {
  if (query === '') return segments.map((s) => ({ ...s, isMatch: false }));
  const needle = query.toLowerCase();
  const text = segments.map((s) => s.text).join('');
  const matches: [number, number][] = [];
  for (let at = text.toLowerCase().indexOf(needle); at !== -1; at = text.toLowerCase().indexOf(needle, at + needle.length)) {
    matches.push([at, at + needle.length]);
  }
  if (matches.length === 0) return segments.map((s) => ({ ...s, isMatch: false }));
  const marked: MarkedSegment[] = [];
  let offset = 0;
  for (const segment of segments) {
    const end = offset + segment.text.length;
    const cuts = new Set([offset, end]);
    for (const [from, to] of matches) {
      if (from > offset && from < end) cuts.add(from);
      if (to > offset && to < end) cuts.add(to);
    }
    const points = [...cuts].sort((a, b) => a - b);
    for (let i = 0; i < points.length - 1; i++) {
      const [from, to] = [points[i], points[i + 1]];
      const isMatch = matches.some(([mFrom, mTo]) => from >= mFrom && to <= mTo);
      marked.push({ text: segment.text.slice(from - offset, to - offset), style: segment.style, isMatch });
    }
    offset = end;
  }
  return marked;
}
