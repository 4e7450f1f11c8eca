import { filterLines, LogBuffer, markMatches } from './log-buffer';

const ESC = '\x1b';
const chunk = (data: string, node = 'local', step = 'greet', stream = 'stdout') => ({ node, step, stream, data });

describe('log buffer', () => {
  it('cuts chunks into lines, holding a line split across chunks until its newline', () => {
    const log = new LogBuffer();
    log.append(chunk('hello, '));
    expect(log.lines).toHaveLength(0);
    log.append(chunk('world\nsecond line\nthi'));
    log.append(chunk('rd\n'));
    expect(log.lines.map((l) => l.text)).toEqual(['hello, world', 'second line', 'third']);
    expect(log.lines.map((l) => l.number)).toEqual([1, 2, 3]);
  });

  it('keeps interleaved nodes and streams apart', () => {
    const log = new LogBuffer();
    log.append(chunk('web-1 sa', 'web-1'));
    log.append(chunk('web-2 says hi\n', 'web-2'));
    log.append(chunk('oops\n', 'web-1', 'greet', 'stderr'));
    log.append(chunk('ys hi\n', 'web-1'));
    expect(log.lines.map((l) => `${l.node}/${l.stream}: ${l.text}`)).toEqual([
      'web-2/stdout: web-2 says hi',
      'web-1/stderr: oops',
      'web-1/stdout: web-1 says hi',
    ]);
  });

  it('shows the last line without a newline when the execution ends', () => {
    const log = new LogBuffer();
    log.append(chunk('no newline at the end'));
    log.finish();
    expect(log.lines.map((l) => l.text)).toEqual(['no newline at the end']);
  });

  it('keeps a colour open across lines and strips escapes from the searchable text', () => {
    const log = new LogBuffer();
    log.append(chunk(`${ESC}[31mred one\nred two${ESC}[0m\nplain\n`));
    expect(log.lines.map((l) => l.text)).toEqual(['red one', 'red two', 'plain']);
    expect(log.lines[1].segments).toEqual([{ text: 'red two', style: { fg: 'var(--ansi-1)' } }]);
    expect(log.lines[2].segments[0].style).toEqual({});
  });

  it('shows what a progress bar finally drew, and drops CRLF carriage returns', () => {
    const log = new LogBuffer();
    log.append(chunk('10%\r50%\r100%\nwindows line\r\n'));
    expect(log.lines.map((l) => l.text)).toEqual(['100%', 'windows line']);
  });

  it('downloads as text, naming the node when there are several', () => {
    const log = new LogBuffer();
    log.append(chunk('a\n', 'n1'));
    log.append(chunk('b\n', 'n2'));
    expect(log.toText()).toBe('[n1] a\n[n2] b\n');
  });

  it('handles 100,000 lines quickly', () => {
    const log = new LogBuffer();
    const started = performance.now();
    for (let i = 0; i < 1000; i++)
      log.append(chunk(Array.from({ length: 100 }, (_, j) => `${ESC}[32mline ${i * 100 + j}${ESC}[0m`).join('\n') + '\n'));
    expect(log.lines).toHaveLength(100_000);
    expect(filterLines(log.lines, { node: null, query: 'line 99999' })).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});

describe('log filter and search marks', () => {
  const log = new LogBuffer();
  log.append(chunk('Hello, World\n', 'n1'));
  log.append(chunk('goodbye\n', 'n2'));

  it('keeps lines of one node, or containing the query in any case', () => {
    expect(filterLines(log.lines, { node: 'n2', query: '' }).map((l) => l.text)).toEqual(['goodbye']);
    expect(filterLines(log.lines, { node: null, query: 'WORLD' }).map((l) => l.text)).toEqual(['Hello, World']);
    expect(filterLines(log.lines, { node: null, query: '' })).toBe(log.lines);
  });

  it('marks each occurrence, even across colour changes', () => {
    const segments = [
      { text: 'say he', style: {} },
      { text: 'llo hello', style: { fg: 'var(--ansi-2)' } },
    ];
    expect(markMatches(segments, 'HELLO')).toEqual([
      { text: 'say ', style: {}, isMatch: false },
      { text: 'he', style: {}, isMatch: true },
      { text: 'llo', style: { fg: 'var(--ansi-2)' }, isMatch: true },
      { text: ' ', style: { fg: 'var(--ansi-2)' }, isMatch: false },
      { text: 'hello', style: { fg: 'var(--ansi-2)' }, isMatch: true },
    ]);
  });
});
