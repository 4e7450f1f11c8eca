/**
 * The out-of-the-box default: no DATABASE_URL, no NATS_URL. The portal starts on embedded PostgreSQL (PGlite)
 * under its data directory and runs the shipped `demo.hello` on the `local` node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, Portal, PortalProcess } from './harness';

jest.setTimeout(180_000);

/** The portal runs as its own process, exactly as `npm start` runs it (PGlite cannot load inside Jest's VM). */
describe('embedded default', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-embedded-'));
  const portalProcess = new PortalProcess({ BATON_DATA_DIR: dataDir, BATON_ADMIN_PASSWORD: ADMIN_PASSWORD });
  let portal: Portal;

  beforeAll(async () => {
    portal = (await portalProcess.start()).portal;
  });

  afterAll(async () => {
    await portalProcess.stop();
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
