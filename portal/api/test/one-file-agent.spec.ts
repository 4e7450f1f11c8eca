/**
 * The one-file agent as an operator installs it: built with `npm run build:agent`, downloaded from the portal
 * (GET /install/baton-agent) into an empty directory with no Node.js modules and no repository around it, started
 * with a token; it enrolls, connects and runs a runbook.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestEnv, destroyTestEnv, startPortal, type Portal, type TestEnv } from './harness';
import { stopChild } from './processes';

const ROOT = join(__dirname, '..', '..', '..');

jest.setTimeout(180_000);

describe('the one-file agent', () => {
  const nodeDir = mkdtempSync(join(tmpdir(), 'baton-node-'));
  let env: TestEnv;
  let portal: Portal;
  let agent: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    const build = spawnSync(process.execPath, [join(ROOT, 'agent', 'build.js')], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build:agent failed:\n${build.stdout}${build.stderr}`);
    env = await createTestEnv(join(__dirname, 'runbooks'));
    portal = await startPortal(env, { BATON_AUTO_ACCEPT: 'false', BATON_AGENT_BINARY: join(ROOT, 'dist', 'agent', 'baton-agent') });
  });

  afterAll(async () => {
    await stopChild(agent, 5000);
    await portal?.close();
    if (env) await destroyTestEnv(env);
    rmSync(nodeDir, { recursive: true, force: true });
  });

  it('downloads from the portal, enrolls with a token and runs a runbook', async () => {
    const download = await fetch(`${portal.url}/install/baton-agent`);
    expect(download.status).toBe(200);
    const file = join(nodeDir, 'baton-agent');
    writeFileSync(file, Buffer.from(await download.arrayBuffer()));
    chmodSync(file, 0o755);
    const token = (await portal.request('POST', '/api/v1/enrollment-tokens', { expiresIn: '10m', maxUses: 1, autoAccept: true })).body
      .token;

    agent = spawn(
      file,
      [
        '--name',
        'one-file-1',
        '--labels',
        'role=onefile',
        '--portal',
        portal.url,
        '--enroll-token',
        token,
        '--state-dir',
        join(nodeDir, 'state'),
      ],
      {
        cwd: nodeDir,
        // Nothing of the repository or of Node's module resolution: only what a bare host has.
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: nodeDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    agent.stdout!.on('data', (d) => (output += d));
    agent.stderr!.on('data', (d) => (output += d));
    await portal.waitForNodes(['one-file-1'], 30_000).catch((err) => {
      throw new Error(`${err}\nagent output:\n${output}`);
    });
    const id = await portal.run('test.echo', { params: { message: 'from one file' }, targets: { names: ['one-file-1'] } });
    const execution = await portal.waitForEnd(id);
    expect(execution.status).toBe('succeeded');
    expect((await portal.request('GET', `/api/v1/executions/${id}/logs`)).text).toContain('from one file');
  });
});
