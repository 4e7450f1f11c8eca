/**
 * Pools end to end: real agents started and stopped by the shipped demo provider runbooks on the `local` node
 * (with this test's NATS subject prefix), operator requests within and beyond operatorLimit, bounds, racing
 * requests, verification that fails when no node joins, provider failures rolled back, and alert-driven actions
 * with the pool's cooldown. Every agent a provider started is killed afterwards, also when a test fails.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestEnv, destroyTestEnv, Portal, sleep, startPortal, type TestEnv } from './harness';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..', '..');
const PASSWORD = 'a-long-test-password';
const TERMINAL = ['succeeded', 'failed', 'rejected', 'refused'];

/** Pools whose providers do nothing (no node ever joins) unless named otherwise; each test has its own. */
function testResources(stateDir: string, agentLabel: string): string {
  const noopPool = (id: string, extra: string) => `
apiVersion: baton/v1
kind: Pool
id: test.${id}
selector: { labels: { nothing: "${id}" } }
min: 0
max: 5
operatorLimit: 2
cooldown: 0s
settleTimeout: 1s
scaleOut: { runbook: test.noop-provider }
scaleIn: { runbook: test.noop-provider }
${extra}`;
  return `
apiVersion: baton/v1
kind: Pool
id: test.agents
selector: { labels: { pool: "${agentLabel}" } }
min: 0
max: 5
operatorLimit: 2
cooldown: 0s
settleTimeout: 60s
scaleOut:
  runbook: demo.pool-scale-out
  params: { state_dir: "${stateDir}", name_prefix: tp, labels: "pool=${agentLabel}", node_bin: "${process.execPath}" }
scaleIn:
  runbook: demo.pool-scale-in
  params: { state_dir: "${stateDir}" }
  pick: oldest
---
apiVersion: baton/v1
kind: Runbook
id: test.noop-provider
title: A provider that says yes and does nothing
params:
  count: { type: integer, required: true }
targets: { local: true }
steps:
  - id: pretend
    run: echo "pretending to add $COUNT node(s)"
---
apiVersion: baton/v1
kind: Runbook
id: test.failing-provider
title: A provider that fails
params:
  count: { type: integer, required: true }
targets: { local: true }
steps:
  - id: fail
    run: echo "quota exceeded" >&2; exit 3
---${noopPool('approval', '')}---${noopPool('bounds', '')}---${noopPool('race', '')}---${noopPool('ghost', '')}---
apiVersion: baton/v1
kind: Pool
id: test.broken
selector: { labels: { nothing: broken } }
min: 0
max: 5
scaleOut: { runbook: test.failing-provider }
scaleIn: { runbook: test.failing-provider }
---${noopPool('alerted', '').replace('cooldown: 0s', 'cooldown: 1h')}---
apiVersion: baton/v1
kind: AlertRule
id: test.high-load
match: { alertname: HighLoad }
action: { pool: test.alerted, by: 2 }
onResolved: { action: { pool: test.alerted, by: -2 } }
cooldown: 1m
maxPerHour: 100
`;
}

/** Kills every agent the provider runbooks started, whatever state the test left them in. */
function killStartedAgents(stateDir: string): void {
  if (!existsSync(stateDir)) return;
  for (const file of readdirSync(stateDir).filter((f) => f.endsWith('.pid'))) {
    const pid = Number(readFileSync(join(stateDir, file), 'utf8').trim());
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

describe('pools', () => {
  let env: TestEnv;
  let admin: Portal;
  let operator: Portal;
  let stateDir: string;
  let runbooksDir: string;

  const pool = (p: Portal, id: string) => p.request('GET', `/api/v1/pools/${id}`);
  const scale = (p: Portal, id: string, body: Record<string, unknown>) =>
    p.request('POST', `/api/v1/pools/${id}/scale`, { reason: 'test', ...body });
  const waitForAction = async (id: string, actionId: string, statuses = TERMINAL, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await admin.request('GET', `/api/v1/pools/${id}/actions/${actionId}`);
      if (statuses.includes(res.body.status)) return res.body;
      if (Date.now() > deadline) throw new Error(`action ${actionId} still ${res.body.status}: ${res.text}`);
      await sleep(100);
    }
  };

  beforeAll(async () => {
    runbooksDir = mkdtempSync(join(tmpdir(), 'baton-pools-runbooks-'));
    stateDir = mkdtempSync(join(tmpdir(), 'baton-pools-state-'));
    env = await createTestEnv(runbooksDir);
    mkdirSync(join(runbooksDir, 'demo'));
    copyFileSync(join(ROOT, 'runbooks/demo/local-pool.yaml'), join(runbooksDir, 'demo/local-pool.yaml'));
    writeFileSync(join(runbooksDir, 'test.yaml'), testResources(stateDir, env.id));
    admin = await startPortal(env);
    const created = await admin.request('POST', '/api/v1/users', { username: 'olga', password: PASSWORD, roles: [{ role: 'operator' }] });
    expect(created.status).toBe(201);
    operator = new Portal(admin.app, admin.url);
    await operator.login('olga', PASSWORD);
  });

  afterAll(async () => {
    killStartedAgents(stateDir);
    await admin?.close();
    if (env) await destroyTestEnv(env);
    killStartedAgents(stateDir);
    rmSync(runbooksDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('lists the pools from the runbooks directory with their bounds and live size', async () => {
    const listed = await operator.request('GET', '/api/v1/pools');
    expect(listed.status).toBe(200);
    expect(listed.body.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining(['demo.local-pool', 'test.agents', 'test.race']));
    expect((await pool(operator, 'demo.local-pool')).body).toMatchObject({ min: 0, max: 5, operatorLimit: 3, desired: null, actual: 0 });
  });

  it('lets an operator scale out by 2 and back to 0, verified by the agents registering and leaving', async () => {
    const out = await scale(operator, 'test.agents', { by: 2, reason: 'campaign tomorrow' });
    expect(out.status).toBe(202);
    expect(out.body).toMatchObject({ status: 'running', from: 0, to: 2, requestedBy: { type: 'user', user: 'olga' } });
    const grown = await waitForAction('test.agents', out.body.id);
    expect(grown).toMatchObject({ status: 'succeeded', verification: { target: 2, actual: 2 } });
    const execution = (await admin.request('GET', `/api/v1/executions/${grown.executionId}`)).body;
    expect(execution).toMatchObject({
      runbook: 'demo.pool-scale-out',
      trigger: { type: 'scaling', pool: 'test.agents' },
      params: { count: 2 },
    });
    const afterOut = (await pool(operator, 'test.agents')).body;
    expect(afterOut).toMatchObject({ desired: 2, actual: 2 });
    expect(afterOut.nodes.sort()).toEqual(['tp-1', 'tp-2']);

    const back = await scale(operator, 'test.agents', { to: 0, reason: 'campaign over' });
    expect(back.status).toBe(202);
    expect(back.body.nodes.sort()).toEqual(['tp-1', 'tp-2']);
    expect(await waitForAction('test.agents', back.body.id)).toMatchObject({ status: 'succeeded', verification: { actual: 0 } });
    expect((await pool(operator, 'test.agents')).body).toMatchObject({ desired: 0, actual: 0, nodes: [] });
    expect(readdirSync(stateDir).filter((f) => f.endsWith('.pid'))).toEqual([]);

    const audit = (await admin.request('GET', '/api/v1/audit?target=pool:test.agents&limit=50')).body.items as { action: string }[];
    const actions = audit.map((e) => e.action);
    expect(actions.filter((a) => a === 'pool.scale.requested')).toHaveLength(2);
    expect(actions.filter((a) => a === 'pool.scale.succeeded')).toHaveLength(2);
  });

  it('holds a request above operatorLimit for an admin, who may approve or reject it', async () => {
    const asked = await scale(operator, 'test.approval', { by: 3 });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ status: 'pending_approval', from: 0, to: 3 });
    expect((await pool(admin, 'test.approval')).body.desired).toBeNull();
    expect((await operator.request('POST', `/api/v1/pools/test.approval/actions/${asked.body.id}/approve`)).status).toBe(403);

    const approved = await admin.request('POST', `/api/v1/pools/test.approval/actions/${asked.body.id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'running', decidedBy: 'admin', to: 3 });
    expect((await pool(admin, 'test.approval')).body.desired).toBe(3);
    expect((await admin.request('POST', `/api/v1/pools/test.approval/actions/${asked.body.id}/approve`)).status).toBe(409);

    const second = await scale(operator, 'test.approval', { by: -3 });
    expect(second.body.status).toBe('pending_approval');
    const rejected = await admin.request('POST', `/api/v1/pools/test.approval/actions/${second.body.id}/reject`, { reason: 'not now' });
    expect(rejected.body).toMatchObject({ status: 'rejected', message: 'not now' });
    expect((await pool(admin, 'test.approval')).body.desired).toBe(3);
  });

  it('refuses to go below min or above max with 409 saying why', async () => {
    const above = await scale(admin, 'test.bounds', { to: 6 });
    expect(above.status).toBe(409);
    expect(above.body.message).toContain("above the pool's max of 5");
    const below = await scale(admin, 'test.bounds', { by: -1 });
    expect(below.status).toBe(409);
    expect(below.body.message).toContain("below the pool's min of 0");
    expect((await scale(admin, 'test.bounds', { by: 1, to: 2 })).status).toBe(400);
    expect((await admin.request('GET', '/api/v1/pools/test.bounds/actions')).body).toEqual([]);
  });

  it('grants only what fits when two requests race past max', async () => {
    const results = await Promise.all([scale(admin, 'test.race', { by: 3 }), scale(admin, 'test.race', { by: 3 })]);
    expect(results.map((r) => r.status).sort()).toEqual([202, 409]);
    expect(results.find((r) => r.status === 409)!.body.message).toContain('max of 5');
    expect((await pool(admin, 'test.race')).body.desired).toBe(3);
  });

  it('fails an action whose provider succeeded but whose nodes never joined, saying what it saw', async () => {
    const asked = await scale(admin, 'test.ghost', { by: 1 });
    const ended = await waitForAction('test.ghost', asked.body.id);
    expect(ended).toMatchObject({ status: 'failed', verification: { target: 1, actual: 0, nodes: [] } });
    expect(ended.message).toContain('settleTimeout 1s');
    // The provider accepted the new size: desired stays, and the record says what is missing.
    expect((await pool(admin, 'test.ghost')).body).toMatchObject({ desired: 1, actual: 0 });
  });

  it('fails an action whose provider runbook failed and gives back its change to desired', async () => {
    const asked = await scale(admin, 'test.broken', { by: 2 });
    expect(asked.status).toBe(202);
    const ended = await waitForAction('test.broken', asked.body.id);
    expect(ended).toMatchObject({ status: 'failed' });
    expect(ended.message).toContain('test.failing-provider ended failed');
    expect((await pool(admin, 'test.broken')).body.desired).toBe(0);
    const audit = (await admin.request('GET', '/api/v1/audit?target=pool:test.broken&limit=10')).body.items as { action: string }[];
    expect(audit.map((e) => e.action)).toContain('pool.scale.failed');
  });

  it('scales on an alert, refuses a second automatic request during the cooldown, and needs an admin force for people', async () => {
    const hook = await admin.request('POST', '/api/v1/hooks', { name: 'am', type: 'alertmanager' });
    expect(hook.status).toBe(201);
    const post = (status: 'firing' | 'resolved', fingerprint: string) =>
      fetch(`${admin.url}/api/v1/hooks/alertmanager/am`, {
        method: 'POST',
        headers: { authorization: `Bearer ${hook.body.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          version: '4',
          status,
          alerts: [
            { status, labels: { alertname: 'HighLoad', service: 'web' }, annotations: {}, startsAt: '2025-11-24T10:00:00Z', fingerprint },
          ],
        }),
      });
    const outcomesOf = async (count: number) => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const deliveries = (await admin.request('GET', '/api/v1/hooks/am/deliveries?limit=50')).body as {
          outcomes: { rule?: string }[] | null;
        }[];
        const outcomes = deliveries.flatMap((d) => d.outcomes ?? []).filter((o) => o.rule === 'test.high-load');
        if (outcomes.length >= count) return outcomes;
        if (Date.now() > deadline) throw new Error(`only ${outcomes.length} outcomes: ${JSON.stringify(deliveries)}`);
        await sleep(100);
      }
    };

    expect((await post('firing', 'load-1')).status).toBe(202);
    await outcomesOf(1);
    const [first] = (await admin.request('GET', '/api/v1/pools/test.alerted/actions')).body;
    expect(first).toMatchObject({
      from: 0,
      to: 2,
      requestedBy: { type: 'alert', rule: 'test.high-load', hook: 'am', fingerprint: 'load-1' },
    });
    expect(['running', 'settling', 'failed']).toContain(first.status);

    expect((await post('firing', 'load-2')).status).toBe(202);
    const outcomes = await outcomesOf(2);
    expect(outcomes.find((o) => (o as { fingerprint?: string }).fingerprint === 'load-2')).toMatchObject({
      result: 'refused',
      message: expect.stringContaining('cooldown'),
    });
    const actions = (await admin.request('GET', '/api/v1/pools/test.alerted/actions')).body;
    expect(actions[0]).toMatchObject({ status: 'refused', requestedBy: { fingerprint: 'load-2' } });
    expect((await pool(admin, 'test.alerted')).body.desired).toBe(2);

    // The resolution's scale-in is automatic too: refused while the pool cools down, and recorded.
    expect((await post('resolved', 'load-1')).status).toBe(202);
    await outcomesOf(3);
    expect((await admin.request('GET', '/api/v1/pools/test.alerted/actions')).body[0]).toMatchObject({ status: 'refused', to: 0 });

    const manual = await scale(operator, 'test.alerted', { by: -1 });
    expect(manual.status).toBe(409);
    expect(manual.body.message).toContain('"force": true');
    expect((await scale(operator, 'test.alerted', { by: -1, force: true })).status).toBe(403);
    const forced = await scale(admin, 'test.alerted', { by: -2, force: true });
    expect(forced.status).toBe(202);
    expect(forced.body).toMatchObject({ status: 'running', isForced: true, to: 0 });
  });
});
