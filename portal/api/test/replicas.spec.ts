/**
 * Two portal replicas on one database: replica A is a process of its own (so that it can crash), replica B runs
 * here. Work driven by A (its `local` node runs) is left alone by B's watchdog while A heartbeats, and ended `lost`
 * by B once A has died.
 */
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestEnv, destroyTestEnv, portalEnv, PortalProcess, sleep, startPortal, type Portal, type TestEnv } from './harness';

jest.setTimeout(180_000);

const HEARTBEAT_MS = 300;

describe('several portal replicas', () => {
  let env: TestEnv;
  let a: PortalProcess;
  let b: Portal;

  beforeAll(async () => {
    env = await createTestEnv(join(__dirname, 'runbooks'));
    a = await new PortalProcess(portalEnv(env, { BATON_HEARTBEAT_MS: String(HEARTBEAT_MS) })).start();
    b = await startPortal(env, { BATON_HEARTBEAT_MS: String(HEARTBEAT_MS) });
  });

  afterAll(async () => {
    await a?.stop();
    await b?.close();
    if (env) await destroyTestEnv(env);
  });

  async function replicas(): Promise<string[]> {
    const db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    try {
      return (await db.query('SELECT id FROM portal_replicas ORDER BY started_at')).rows.map((r) => r.id);
    } finally {
      await db.end();
    }
  }

  it('records both replicas', async () => {
    expect(await replicas()).toHaveLength(2);
  });

  it('leaves a run driven by another live replica to it, however long it takes', async () => {
    // Many watchdog rounds of B and several of A's silence limits (3 heartbeats) pass during the run.
    const id = await a.portal.run('test.sleep', { params: { nap_seconds: 4 }, targets: { local: true } });
    const execution = await b.waitForEnd(id, 30_000);
    expect(execution.status).toBe('succeeded');
    expect(execution.nodes[0]).toMatchObject({ node: 'local', status: 'succeeded' });
  });

  it('ends the runs of a replica that crashed, naming it', async () => {
    const id = await a.portal.run('test.sleep', { params: { nap_seconds: 120 }, targets: { local: true } });
    const deadline = Date.now() + 10_000;
    while ((await b.request('GET', `/api/v1/executions/${id}`)).body.nodes[0].status !== 'running') {
      if (Date.now() > deadline) throw new Error('the run did not start');
      await sleep(50);
    }
    const [driver] = await replicas(); // A started first
    await a.kill();
    const execution = await b.waitForEnd(id, 15_000);
    expect(execution.status).toBe('failed');
    expect(execution.nodes[0].status).toBe('lost');
    expect(execution.nodes[0].reason).toBe(`the portal replica driving this execution (${driver}) stopped during the run`);
    expect(await replicas()).toHaveLength(2); // a crashed replica cannot remove its row; it is judged by its silence
  });
});
