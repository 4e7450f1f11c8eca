import { elapsed, fields, styles, table } from './output';

const rows = [
  { id: 'ops.disk-usage', title: 'Disk usage of a path on each node' },
  { id: 'demo.hello', title: 'Hello' },
];
const columns = [
  { header: 'ID', value: (r: (typeof rows)[number]) => r.id },
  { header: 'TITLE', value: (r: (typeof rows)[number]) => r.title, isFlexible: true },
];

describe('table', () => {
  it('aligns columns under their headers', () => {
    expect(table(rows, columns)).toBe(
      ['ID              TITLE', 'ops.disk-usage  Disk usage of a path on each node', 'demo.hello      Hello'].join('\n'),
    );
  });

  it('cuts flexible columns so that every line fits the terminal', () => {
    const lines = table(rows, columns, 30).split('\n');
    expect(lines.every((line) => line.length <= 30)).toBe(true);
    expect(lines[1]).toBe('ops.disk-usage  Disk usage of…');
  });

  it('keeps colour codes out of the width', () => {
    const { green } = styles(true);
    const painted = table(rows, [columns[0], { ...columns[1], paint: (text: string) => green(text) }]);
    expect(painted.split('\n')[2]).toBe(`demo.hello      ${green('Hello')}`);
  });

  it('is empty without rows', () => {
    expect(table([], columns)).toBe('');
  });
});

describe('fields', () => {
  it('lines up keys and leaves out empty values', () => {
    expect(
      fields([
        ['id', 'x'],
        ['reason', undefined],
        ['status', 'ok'],
      ]),
    ).toBe('id:     x\nstatus: ok');
  });
});

describe('elapsed', () => {
  it('reads as milliseconds, seconds or minutes', () => {
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
    expect(elapsed(at(0), at(850))).toBe('850ms');
    expect(elapsed(at(0), at(12_345))).toBe('12.3s');
    expect(elapsed(at(0), at(245_000))).toBe('4m05s');
    expect(elapsed(null, at(1))).toBe('');
  });
});
