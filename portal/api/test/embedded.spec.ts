/**
 * The out-of-the-box default: no DATABASE_URL, no NATS_URL. The portal starts on embedded PostgreSQL (PGlite)
 * under its data directory and runs the shipped `demo.hello` on the `local` node.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, Portal } from './harness';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..', '..');

/** The portal runs as its own process, exactly as `npm start` runs it (PGlite cannot load inside Jest's VM). */
describe('embedded default', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-embedded-'));
  let child: ChildProcess;
  let output = '';
  let portal: Portal;

  beforeAll(async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['-r', join(ROOT, 'scripts/register.js'), join(ROOT, 'portal/api/src/main.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        BATON_DATA_DIR: dataDir,
        BATON_ADMIN_PASSWORD: ADMIN_PASSWORD,
        BATON_LOG_LEVEL: 'warn',
        BATON_WEB_DIR: '/nonexistent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    await waitFor(
      () => output.includes('listening on'),
      150_000,
      () => `portal did not start:\n${output}`,
    );
    portal = new Portal(undefined as never, `http://127.0.0.1:${port}`);
    await portal.login('admin', ADMIN_PASSWORD);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs demo.hello on the local node and stores its output', async () => {
    const runbooks = (await portal.request('GET', '/api/v1/runbooks')).body;
    expect(runbooks).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'demo.hello' })]));

    const id = await portal.run('demo.hello', { params: { name: 'Baton' } });
    const execution = await portal.waitForEnd(id);
    expect(execution).toMatchObject({ status: 'succeeded', runbook: 'demo.hello', params: { name: 'Baton' } });
    expect(execution.nodes).toEqual([
      expect.objectContaining({
        node: 'local',
        executor: 'local',
        status: 'succeeded',
        steps: [expect.objectContaining({ outputs: { greeting: 'hello, Baton' } })],
      }),
    ]);
    const logs = await portal.request('GET', `/api/v1/executions/${id}/logs`);
    expect(logs.text).toContain('hello, Baton');
  });

  it('uses the default parameter value and lists the run', async () => {
    const id = await portal.run('demo.hello', {});
    expect((await portal.waitForEnd(id)).status).toBe('succeeded');
    const list = (await portal.request('GET', '/api/v1/executions?runbook=demo.hello&limit=10')).body;
    expect(list.map((e: { id: string }) => e.id)).toContain(id);
    expect((await portal.request('GET', `/api/v1/executions/${id}/logs`)).text).toContain('hello, world');
  });

  it('answers health, metrics and OpenAPI, and refuses anonymous API calls', async () => {
    expect((await fetch(`${portal.url}/health/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${portal.url}/metrics`)).text();
    expect(metrics).toContain('baton_executions_finished_total{status="succeeded"}');
    expect((await fetch(`${portal.url}/api/docs-json`)).status).toBe(200);
    const anonymous = await fetch(`${portal.url}/api/v1/runbooks`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    const badLogin = await fetch(`${portal.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'wrong' }),
    });
    expect(badLogin.status).toBe(401);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((r) => setTimeout(r, 100));
  }
}
