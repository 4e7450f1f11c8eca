/**
 * The dispatch queue on real PostgreSQL, runs on the `local` node: accepted runs wait `queued` and start as the
 * limits allow; past the queue bound the API answers 429 with Retry-After; per-key concurrency queues or refuses;
 * the per-node cap holds; a portal restart with a full queue loses nothing; nothing waits in the queue forever.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestEnv, destroyTestEnv, startPortal, type Portal, type TestEnv } from './harness';

jest.setTimeout(90_000);

const RUNBOOKS = `
apiVersion: baton/v1
kind: Runbook
id: q.nap
title: Naps on the portal's host
params:
  seconds: { type: number, default: 0.5 }
  token: { type: secret, required: false }
targets: { local: true }
steps:
  - id: nap
    run: sleep "$SECONDS"; echo "token length \${#TOKEN}"
---
apiVersion: baton/v1
kind: Runbook
id: q.per-service
title: One at a time per service
params:
  service: { type: string, required: true }
  seconds: { type: number, default: 0.6 }
concurrency: { limit: 1, key: "{{ params.service }}" }
targets: { local: true }
steps:
  - id: restart
    run: sleep "$SECONDS"
---
apiVersion: baton/v1
kind: Runbook
id: q.exclusive
title: Refuses a second run
concurrency: { limit: 1, onLimit: refuse }
targets: { local: true }
steps:
  - id: work
    run: sleep 1
`;

interface Timed {
  status: string;
  reason?: string;
  startedAt: string;
  finishedAt: string;
}

describe('the dispatch queue', () => {
  const runbooksDir = mkdtempSync(join(tmpdir(), 'baton-queue-'));
  let env: TestEnv;
  const portals: Portal[] = [];

  async function portal(extra: Record<string, string>): Promise<Portal> {
    const started = await startPortal(env, { NATS_URL: '', ...extra });
    portals.push(started);
    return started;
  }

  beforeAll(async () => {
    writeFileSync(join(runbooksDir, 'queue.yaml'), RUNBOOKS);
    env = await createTestEnv(runbooksDir);
  });

  afterEach(async () => {
    for (const p of portals.splice(0)) await p.close();
  });

  afterAll(async () => {
    if (env) await destroyTestEnv(env);
    rmSync(runbooksDir, { recursive: true, force: true });
  });

  it('answers 429 with Retry-After past the queue bound, and runs every accepted run to the end', async () => {
    const p = await portal({ BATON_QUEUE_LIMIT: '2', BATON_MAX_RUNNING: '1' });
    const responses = [];
    for (let i = 0; i < 6; i++) responses.push(await p.request('POST', '/api/v1/runbooks/q.nap/executions', { params: { seconds: 0.5 } }));
    const accepted = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status === 429);
    expect(accepted.length).toBeGreaterThanOrEqual(3); // one running, two queued
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0].body).toMatchObject({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringContaining('the queue holds 2'),
    });
    const raw = await fetch(`${p.url}/api/v1/runbooks/q.nap/executions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(raw.status).toBe(429);
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(accepted[1].body.status).toBe('queued');
    for (const res of accepted) expect((await p.waitForEnd(res.body.id)).status).toBe('succeeded');

    // The load is visible in /metrics.
    const metrics = await (await fetch(`${p.url}/metrics`)).text();
    expect(metrics).toMatch(/baton_executions_refused_total\{reason="queue_full"\} [1-9]/);
    expect(metrics).toMatch(/baton_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/runbooks\/:id\/executions",status="429"\} [1-9]/);
    expect(metrics).toMatch(/baton_execution_duration_seconds_count\{runbook="q.nap",status="succeeded"\} [1-9]/);
    expect(metrics).toContain('baton_executions_queued ');
  });

  it('runs one at a time per concurrency key, and keys apart in parallel', async () => {
    const p = await portal({});
    const a1 = await p.run('q.per-service', { params: { service: 'nginx' } });
    const a2 = await p.run('q.per-service', { params: { service: 'nginx' } });
    const b1 = await p.run('q.per-service', { params: { service: 'redis' } });
    const [x1, x2, y1] = (await Promise.all([a1, a2, b1].map((id) => p.waitForEnd(id)))) as Timed[];
    for (const e of [x1, x2, y1]) expect(e.status).toBe('succeeded');
    expect(Date.parse(x2.startedAt)).toBeGreaterThanOrEqual(Date.parse(x1.finishedAt));
    expect(Date.parse(y1.startedAt)).toBeLessThan(Date.parse(x1.finishedAt));
  });

  it('refuses a run with 409 when the runbook says onLimit: refuse', async () => {
    const p = await portal({});
    const first = await p.run('q.exclusive', {});
    const second = await p.request('POST', '/api/v1/runbooks/q.exclusive/executions', {});
    expect(second.status).toBe(409);
    expect(second.body.message).toContain('q.exclusive: 1 run(s) already queued or running, the runbook allows 1');
    expect((await p.waitForEnd(first)).status).toBe('succeeded');
    expect((await p.request('POST', '/api/v1/runbooks/q.exclusive/executions', {})).status).toBe(201);
  });

  it('keeps to the per-node cap', async () => {
    const p = await portal({ BATON_NODE_MAX_RUNS: '1' });
    const ids = [await p.run('q.nap', { params: { seconds: 0.4 } }), await p.run('q.nap', { params: { seconds: 0.4 } })];
    const [first, second] = (await Promise.all(ids.map((id) => p.waitForEnd(id)))) as Timed[];
    expect([first.status, second.status]).toEqual(['succeeded', 'succeeded']);
    expect(Date.parse(second.startedAt)).toBeGreaterThanOrEqual(Date.parse(first.finishedAt));
  });

  it('loses nothing queued when the portal restarts, secret parameters included', async () => {
    const first = await portal({ BATON_MAX_RUNNING: '1' });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await first.run('q.nap', { params: { seconds: 1, token: 'queued-s3cret' } }));
    const statuses = await Promise.all(ids.map(async (id) => (await first.request('GET', `/api/v1/executions/${id}`)).body.status));
    expect(statuses.filter((s) => s === 'queued').length).toBeGreaterThanOrEqual(2);
    await first.close();
    portals.splice(0);

    const second = await portal({});
    const ends = await Promise.all(ids.map((id) => second.waitForEnd(id, 30_000)));
    // The run that was going when the portal stopped ends as the watchdog finds it; every queued one runs.
    const queuedOnes = ends.filter((e, i) => statuses[i] === 'queued');
    for (const e of queuedOnes) expect(e.status).toBe('succeeded');
    const log = (await second.request('GET', `/api/v1/executions/${ids[ids.length - 1]}/logs`)).text;
    expect(log).toContain(`token length ${'queued-s3cret'.length}`);
    expect(JSON.stringify(ends)).not.toContain('queued-s3cret');
  });

  it('ends a run that waited in the queue too long, saying why', async () => {
    const p = await portal({ BATON_QUEUE_TIMEOUT: '1s' });
    const holder = await p.run('q.per-service', { params: { service: 'db', seconds: 8 } });
    const waiter = await p.run('q.per-service', { params: { service: 'db', seconds: 0 } });
    const ended = await p.waitForEnd(waiter, 20_000);
    expect(ended.status).toBe('failed');
    expect(ended.nodes[0]).toMatchObject({ status: 'cancelled', reason: expect.stringContaining('waited in the queue longer than') });
    await p.request('POST', `/api/v1/executions/${holder}/cancel`, {});
  });
});
