import { applySgr, colour256, parseAnsi, segmentCss, stripAnsi } from './ansi';

const ESC = '\x1b';

describe('ANSI colour parser', () => {
  it('leaves plain text as one unstyled segment', () => {
    expect(parseAnsi('hello, world').segments).toEqual([{ text: 'hello, world', style: {} }]);
  });

  it('colours text between a colour code and a reset', () => {
    const { segments, style } = parseAnsi(`ok ${ESC}[32mPASS${ESC}[0m done`);
    expect(segments).toEqual([
      { text: 'ok ', style: {} },
      { text: 'PASS', style: { fg: 'var(--ansi-2)' } },
      { text: ' done', style: {} },
    ]);
    expect(style).toEqual({});
  });

  it('combines bold with bright and background colours, and resets them one by one', () => {
    const { segments } = parseAnsi(`${ESC}[1;91;44mERR${ESC}[22m!${ESC}[39;49m.`);
    expect(segments).toEqual([
      { text: 'ERR', style: { bold: true, fg: 'var(--ansi-9)', bg: 'var(--ansi-4)' } },
      { text: '!', style: { fg: 'var(--ansi-9)', bg: 'var(--ansi-4)' } },
      { text: '.', style: {} },
    ]);
  });

  it('understands 256-colour and 24-bit colours', () => {
    expect(applySgr({}, '38;5;196').fg).toBe('rgb(255, 0, 0)');
    expect(applySgr({}, '48;5;244').bg).toBe('rgb(128, 128, 128)');
    expect(applySgr({}, '38;2;10;20;300').fg).toBe('rgb(10, 20, 255)');
    expect(applySgr({}, '38;5;3').fg).toBe('var(--ansi-3)');
    expect(colour256(16)).toBe('rgb(0, 0, 0)');
    expect(colour256(231)).toBe('rgb(255, 255, 255)');
  });

  it('treats an empty parameter list as a reset', () => {
    expect(applySgr({ fg: 'var(--ansi-1)', bold: true }, '')).toEqual({});
  });

  it('carries the style over to the next line, as a terminal does', () => {
    const first = parseAnsi(`${ESC}[33mwarning: starts here`);
    const second = parseAnsi('and goes on', first.style);
    expect(second.segments).toEqual([{ text: 'and goes on', style: { fg: 'var(--ansi-3)' } }]);
  });

  it('drops cursor movements and terminal titles instead of showing them', () => {
    const line = `${ESC}]0;my title\x07${ESC}[2K${ESC}[1Aprogress 50%${ESC}[?25l`;
    expect(parseAnsi(line).segments).toEqual([{ text: 'progress 50%', style: {} }]);
    expect(stripAnsi(`${ESC}[31mred${ESC}[0m`)).toBe('red');
  });

  it('swaps the colours of inverse text', () => {
    expect(segmentCss({ inverse: true, fg: 'var(--ansi-1)' })).toEqual({
      color: 'var(--log-bg)',
      background: 'var(--ansi-1)',
      classes: '',
    });
    expect(segmentCss({ bold: true, underline: true }).classes).toBe('ansi-bold ansi-underline');
  });
});
