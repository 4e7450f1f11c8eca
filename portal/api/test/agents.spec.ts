/**
 * The runbook loop over real NATS and PostgreSQL with real agent processes: fan-out, outputs, retries,
 * timeouts, onFailure, rolling batches, cancel, refused envelopes, a killed agent, a portal restart.
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Client } from 'pg';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import {
  EnvelopeSigner,
  IdentitySigner,
  SIGNATURE_HEADER,
  generateAgentKeys,
  generateSigningKeys,
  sealTo,
  signedMessageBytes,
} from '@baton/shared/node';
import { subjects, type SealedDispatchOrder } from '@baton/shared';
import { AgentProcess, NATS_URL, Portal, TestEnv, createTestEnv, destroyTestEnv, sleep, startPortal } from './harness';

jest.setTimeout(60_000);

describe('runbooks on agents over NATS', () => {
  let env: TestEnv;
  let portal: Portal;
  let nc: NatsConnection;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    env = await createTestEnv(join(__dirname, 'runbooks'));
    portal = await startPortal(env);
    nc = await connect({ servers: NATS_URL });
    for (const [name, labels] of [
      ['web-1', 'role=web,env=test'],
      ['web-2', 'role=web,env=test'],
      ['db-1', 'role=db'],
    ]) {
      agents.push(new AgentProcess(name, portal, labels).start());
    }
    await portal.waitForNodes(['web-1', 'web-2', 'db-1'], 30_000);
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await nc?.close();
    await portal?.close();
    await destroyTestEnv(env);
  });

  it('lists registered agents with their labels', async () => {
    const nodes = (await portal.request('GET', '/api/v1/nodes')).body;
    expect(nodes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'web-1', executor: 'agent', status: 'online', labels: { role: 'web', env: 'test' } }),
        expect.objectContaining({ name: 'db-1', labels: { role: 'db' } }),
        expect.objectContaining({ name: 'local', executor: 'local' }),
      ]),
    );
  });

  it('fans a runbook out to every node matching the labels and stores outputs and logs', async () => {
    const id = await portal.run('test.echo', { params: { message: 'hello fleet', count: 2 } });
    const execution = await portal.waitForEnd(id);
    expect(execution.status).toBe('succeeded');
    expect(execution.trigger).toEqual({ type: 'user', user: 'admin' });
    expect(execution.params).toEqual({ message: 'hello fleet', count: 2 });
    expect(execution.nodes.map((n: { node: string }) => n.node).sort()).toEqual(['web-1', 'web-2']);
    for (const node of execution.nodes) {
      expect(node.status).toBe('succeeded');
      expect(node.steps).toEqual([
        expect.objectContaining({ id: 'say', status: 'succeeded', exitCode: 0, attempts: 1, outputs: { said: 'hello fleet' } }),
        expect.objectContaining({ id: 'confirm', status: 'succeeded', exitCode: 0 }),
      ]);
    }
    const logs = await portal.request('GET', `/api/v1/executions/${id}/logs`);
    expect(logs.text.match(/hello fleet on /g)).toHaveLength(4);
    expect(logs.text).toContain('confirmed hello fleet');
  });

  it('targets nodes by name when the caller says so', async () => {
    const id = await portal.run('test.echo', { params: { message: 'only db' }, targets: { names: ['db-1'] } });
    const execution = await portal.waitForEnd(id);
    expect(execution.status).toBe('succeeded');
    expect(execution.nodes).toEqual([expect.objectContaining({ node: 'db-1', status: 'succeeded' })]);
  });

  it('rejects bad parameters with a 400 that names the field', async () => {
    const unknown = await portal.request('POST', '/api/v1/runbooks/test.echo/executions', { params: { message: 'hi', colour: 'red' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('colour');
    const wrongType = await portal.request('POST', '/api/v1/runbooks/test.echo/executions', { params: { message: 'hi', count: 'many' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.details).toEqual([expect.objectContaining({ field: 'params.count' })]);
    const pattern = await portal.request('POST', '/api/v1/runbooks/test.echo/executions', { params: { message: 'Robert"); DROP TABLE' } });
    expect(pattern.status).toBe(400);
    expect(pattern.body.message).toContain('params.message');
    const missing = await portal.request('POST', '/api/v1/runbooks/test.echo/executions', { params: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('message');
  });

  it('answers 404 for an unknown runbook and lists files that failed to load', async () => {
    const res = await portal.request('POST', '/api/v1/runbooks/nope.nothing/executions', { params: {} });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    const errors = (await portal.request('GET', '/api/v1/resources/errors')).body;
    expect(errors).toEqual([
      expect.objectContaining({ file: expect.stringContaining('broken.yaml'), line: 8, message: expect.stringContaining('duration') }),
    ]);
  });

  it('retries a failing step until it succeeds', async () => {
    const key = `${env.id}-${Date.now()}`;
    const id = await portal.run('test.flaky', { params: { flaky_key: key }, targets: { names: ['web-1'] } });
    const execution = await portal.waitForEnd(id);
    expect(execution.status).toBe('succeeded');
    expect(execution.nodes[0].steps[0]).toMatchObject({ id: 'flaky', attempts: 3, status: 'succeeded' });
  });

  it('stops the rolling batch after maxFailures and runs onFailure steps on the failed node', async () => {
    const id = await portal.run('test.fail', { params: { code: 7 } });
    const execution = await portal.waitForEnd(id);
    expect(execution.status).toBe('failed');
    const [first, second] = execution.nodes;
    expect(first).toMatchObject({ status: 'failed' });
    expect(first.steps).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'broken', status: 'failed', exitCode: 7 }),
        expect.objectContaining({ id: 'never', status: 'skipped' }),
        expect.objectContaining({ id: 'cleanup', status: 'succeeded' }),
      ]),
    );
    expect(second).toMatchObject({ status: 'cancelled', reason: expect.stringContaining('maxFailures') });
    const logs = await portal.request('GET', `/api/v1/executions/${id}/logs`);
    expect(logs.text).toContain('cleanup after broken');
  });

  it('calls the portal-side onFailure hook once when an execution fails', async () => {
    const calls: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        calls.push(`${req.method} ${req.url} ${body}`);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(39517, '127.0.0.1', r));
    try {
      const id = await portal.run('test.notify', {});
      expect((await portal.waitForEnd(id)).status).toBe('failed');
      const deadline = Date.now() + 5000;
      while (calls.length === 0 && Date.now() < deadline) await sleep(20);
      await sleep(200);
      expect(calls).toEqual(['POST /hook runbook failed']);
    } finally {
      server.close();
    }
  });

  it('ends a step that runs past its timeout', async () => {
    const id = await portal.run('test.timeout', { targets: { names: ['web-2'] } });
    const execution = await portal.waitForEnd(id);
    expect(execution.status).toBe('failed');
    expect(execution.nodes[0].steps[0]).toMatchObject({ id: 'slow', status: 'timed_out' });
  });

  it('cancels a running execution on its agents', async () => {
    const id = await portal.run('test.sleep', {});
    await waitForLog(portal, id, 'napping');
    const res = await portal.request('POST', `/api/v1/executions/${id}/cancel`);
    expect(res.status).toBe(202);
    const execution = await portal.waitForEnd(id, 10_000);
    expect(execution.status).toBe('cancelled');
    for (const node of execution.nodes) expect(node.status).toBe('cancelled');
  });

  it('streams the log live as server-sent events until the execution ends', async () => {
    const id = await portal.run('test.sleep', { params: { nap_seconds: 0.5 }, targets: { names: ['web-1'] } });
    const res = await fetch(`${portal.url}/api/v1/executions/${id}/logs?follow=1`, {
      headers: { authorization: `Bearer ${portal.token}` },
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const body = await res.text();
    expect(body).toContain('event: log');
    expect(body).toContain('napping');
    expect(body).toContain('woke up');
    expect(body).toMatch(/event: end\ndata: {"status":"succeeded"}/);
  });

  it('refuses a forged envelope and a replayed one', async () => {
    const plan = { steps: [{ id: 'evil', run: 'touch /tmp/baton-pwned' }], onFailure: [], env: {}, secrets: [] };
    const order: SealedDispatchOrder = {
      type: 'dispatch',
      executionId: '00000000-0000-4000-8000-000000000000',
      nodeRunId: '00000000-0000-4000-8000-000000000001',
      node: 'db-1',
      sealedPlan: sealTo(generateAgentKeys().boxPublicKey, JSON.stringify(plan)),
    };
    const subject = subjects(env.prefix).dispatch('db-1');
    const forged = new EnvelopeSigner(generateSigningKeys().privateKeyPem).seal(order);
    const forgedReply = (await nc.request(subject, JSON.stringify(forged), { timeout: 2000 })).json();
    expect(forgedReply).toEqual({ accepted: false, reason: expect.stringContaining('bad signature') });

    // A genuine envelope captured on the wire and sent again must be refused too.
    const genuine = new EnvelopeSigner(await portalSigningKey(env)).seal({ ...order, type: 'cancel', reason: 'x' } as never);
    const first = (await nc.request(subject, JSON.stringify(genuine), { timeout: 2000 })).json();
    expect(first).toEqual({ accepted: true });
    const replay = (await nc.request(subject, JSON.stringify(genuine), { timeout: 2000 })).json();
    expect(replay).toEqual({ accepted: false, reason: expect.stringContaining('replayed') });
  });

  it("drops a hello, heartbeat or event in another node's name: signed by the wrong key or not at all", async () => {
    const s = subjects(env.prefix);
    const impostor = new IdentitySigner(generateAgentKeys().seed);
    const hello = JSON.stringify({
      node: 'web-1',
      hostname: 'evil',
      labels: { role: 'db' },
      version: 'x',
      running: [],
      sentAt: Date.now(),
    });
    const forgedHeaders = headers();
    forgedHeaders.set(SIGNATURE_HEADER, impostor.sign(signedMessageBytes(s.hello, new TextEncoder().encode(hello))));
    const forged = (await nc.request(s.hello, hello, { timeout: 2000, headers: forgedHeaders })).json();
    expect(forged).toEqual({ ok: false, reason: 'hello not signed by the enrolled key of web-1' });
    const unsigned = (await nc.request(s.hello, hello, { timeout: 2000 })).json();
    expect(unsigned).toEqual({ ok: false, reason: 'hello not signed by the enrolled key of web-1' });
    const stranger = (await nc.request(s.hello, hello.replace('"web-1"', '"nobody-1"'), { timeout: 2000 })).json();
    expect(stranger).toEqual({ ok: false, reason: expect.stringContaining('not an accepted agent') });
    expect((await portal.request('GET', '/api/v1/nodes')).body.find((n: { name: string }) => n.name === 'web-1').labels).toEqual({
      role: 'web',
      env: 'test',
    });

    // A forged "step finished" for a running execution on web-1 must not end it.
    const id = await portal.run('test.sleep', { params: { nap_seconds: 1 }, targets: { names: ['web-1'] } });
    await waitForLog(portal, id, 'napping');
    const run = (await portal.request('GET', `/api/v1/executions/${id}`)).body.nodes[0];
    const event = { type: 'node.finished', nodeRunId: run.id, seq: 9999, at: Date.now(), status: 'failed', reason: 'forged' };
    await jetstream(nc).publish(s.events(id, 'web-1'), JSON.stringify(event));
    const execution = await portal.waitForEnd(id);
    expect(execution.status).toBe('succeeded');
  });

  it('marks a node run unreachable when its agent does not acknowledge', async () => {
    const ghost = new AgentProcess('ghost-1', portal, 'role=ghost').start();
    await portal.waitForNodes(['ghost-1'], 30_000);
    await ghost.stop();
    const id = await portal.run('test.echo', { params: { message: 'anyone' }, targets: { names: ['ghost-1'] } });
    const execution = await portal.waitForEnd(id);
    expect(execution.status).toBe('failed');
    expect(execution.nodes[0]).toMatchObject({ status: 'unreachable', reason: expect.stringMatching(/not connected|no acknowledgement/) });
  });

  it('marks a node run lost when its agent dies mid-run', async () => {
    const doomed = new AgentProcess('doomed-1', portal, 'role=doomed').start();
    await portal.waitForNodes(['doomed-1'], 30_000);
    const id = await portal.run('test.sleep', { targets: { names: ['doomed-1'] } });
    await waitForLog(portal, id, 'napping');
    doomed.kill('SIGKILL');
    const execution = await portal.waitForEnd(id, 15_000);
    expect(execution.status).toBe('failed');
    expect(execution.nodes[0]).toMatchObject({ status: 'lost', reason: expect.stringContaining('no heartbeat') });
  });

  it('loses no events when the portal restarts during a run', async () => {
    const id = await portal.run('test.sleep', { params: { nap_seconds: 1.5 }, targets: { names: ['web-2'] } });
    await waitForLog(portal, id, 'napping');
    await portal.close();
    await sleep(2000); // the step finishes while no portal is running; its events wait in JetStream
    portal = await startPortal(env);
    const execution = await portal.waitForEnd(id);
    expect(execution.status).toBe('succeeded');
    const logs = await portal.request('GET', `/api/v1/executions/${id}/logs`);
    expect(logs.text).toBe('napping\nwoke up\n');
  });
});

async function waitForLog(portal: Portal, id: string, text: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await portal.request('GET', `/api/v1/executions/${id}/logs`)).text.includes(text)) {
    if (Date.now() > deadline) throw new Error(`log of ${id} never showed "${text}"`);
    await sleep(50);
  }
}

async function portalSigningKey(env: TestEnv): Promise<string> {
  const db = new Client({ connectionString: env.databaseUrl });
  await db.connect();
  const { rows } = await db.query(`SELECT value FROM settings WHERE key = 'dispatch.signingKey'`);
  await db.end();
  return rows[0].value;
}
