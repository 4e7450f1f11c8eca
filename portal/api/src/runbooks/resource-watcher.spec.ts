import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceWatcher } from './resource-watcher';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ResourceWatcher', () => {
  let dir: string;
  let quiets: number;
  let watcher: ResourceWatcher;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-watch-'));
    quiets = 0;
    watcher = new ResourceWatcher(
      () => quiets++,
      100,
      (watched, err) => {
        throw new Error(`cannot watch ${watched}: ${err.message}`);
      },
    );
  });

  afterEach(() => {
    watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a burst of writes once, after it has been quiet', async () => {
    watcher.watchDirectories([dir]);
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(dir, 'a.yaml'), `n: ${i}\n`);
      await sleep(20);
    }
    expect(quiets).toBe(0);
    await sleep(250);
    expect(quiets).toBe(1);
  });

  it('sees changes in the directories it is given, and a directory added later counts as a change', async () => {
    mkdirSync(join(dir, 'team'));
    watcher.watchDirectories([dir]);
    writeFileSync(join(dir, 'team', 'b.yaml'), 'n: 1\n');
    await sleep(250);
    expect(quiets).toBe(0);

    watcher.watchDirectories([dir, join(dir, 'team')]);
    await sleep(250);
    expect(quiets).toBe(1);
    writeFileSync(join(dir, 'team', 'b.yaml'), 'n: 2\n');
    await sleep(250);
    expect(quiets).toBe(2);
  });

  it('reports nothing once closed', async () => {
    watcher.watchDirectories([dir]);
    writeFileSync(join(dir, 'a.yaml'), 'n: 1\n');
    watcher.close();
    await sleep(250);
    expect(quiets).toBe(0);
  });
});
