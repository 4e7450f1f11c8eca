import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatLoadError, lintPaths } from './lint';

const GOOD = ['apiVersion: baton/v1', 'kind: Runbook', 'id: demo.ok', 'title: OK', 'steps:', '  - id: a', '    run: echo a', ''].join('\n');

describe('baton lint', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-lint-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports every problem of a tree as file:line:col: message, files in path order', async () => {
    mkdirSync(join(dir, 'ops'));
    writeFileSync(join(dir, 'good.yaml'), GOOD);
    writeFileSync(
      join(dir, 'ops', 'bad-duration.yml'),
      GOOD.replace('id: demo.ok', 'id: ops.slow').replace('    run: echo a', '    run: echo a\n    timeout: soon'),
    );
    writeFileSync(join(dir, 'ops', 'bad-yaml.yaml'), 'kind: Runbook\nsteps: [\n');
    writeFileSync(join(dir, 'notes.txt'), 'not: [yaml');

    const result = await lintPaths([dir]);

    expect(result.files).toBe(3);
    expect(result.resources).toBe(1);
    expect(result.errors.map(formatLoadError)).toEqual([
      `${join(dir, 'ops', 'bad-duration.yml')}:8:14: steps[0].timeout: must be a duration such as 500ms, 30s, 15m, 2h (got "soon")`,
      expect.stringMatching(new RegExp(`^${join(dir, 'ops', 'bad-yaml.yaml')}:3:1: `)),
    ]);
  });

  it('skips hidden directories and node_modules under a directory, but checks a file named on the command line', async () => {
    mkdirSync(join(dir, '.git'));
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, '.git', 'bad.yaml'), 'kind: Nope');
    writeFileSync(join(dir, 'node_modules', 'bad.yaml'), 'kind: Nope');
    writeFileSync(join(dir, 'runbook.txt'), 'kind: Nope');

    expect((await lintPaths([dir])).files).toBe(0);
    const named = await lintPaths([join(dir, 'runbook.txt')]);
    expect(named.errors).toEqual([
      expect.objectContaining({ line: 1, column: 7, message: expect.stringContaining('unknown kind "Nope"') }),
    ]);
  });

  it('says which path does not exist, with exit code 2', async () => {
    await expect(lintPaths([join(dir, 'missing')])).rejects.toMatchObject({
      exitCode: 2,
      message: `${join(dir, 'missing')}: no such file or directory`,
    });
  });
});
