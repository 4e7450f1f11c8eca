/**
 * The NATS configuration we ship (deploy/nats/nats-server.conf) on a real nats-server started by the test: the
 * portal and an agent logged in with their own users run a runbook end to end, so the permissions are enough; and
 * with that agent's credentials nothing of another node can be read or written: its dispatch orders (which carry
 * secret values), its events, its heartbeat, the portal's hello subject.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import { AgentProcess, createTestEnv, destroyTestEnv, freePort, sleep, startPortal, type Portal, type TestEnv } from './harness';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..', '..');
const SHIPPED = join(ROOT, 'deploy', 'nats', 'nats-server.conf');

describe('the shipped NATS permissions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-nats-'));
  let server: ChildProcess;
  let url: string;
  let env: TestEnv;
  let portal: Portal;
  let agent: AgentProcess;
  let web1: NatsConnection;

  beforeAll(async () => {
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    // The shipped file as it is, but for where it listens and stores, so that it runs beside the CI's own server.
    const conf = readFileSync(SHIPPED, 'utf8')
      .replace(/^listen: .*$/m, `listen: 127.0.0.1:${port}`)
      .replace(/^http: .*$/m, '')
      .replace(/store_dir: .*$/m, `store_dir: ${join(dir, 'js')}`);
    writeFileSync(join(dir, 'nats-server.conf'), conf);
    server = spawn('/usr/sbin/nats-server', ['-c', join(dir, 'nats-server.conf')], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        await (await connect({ servers: url, user: 'portal', pass: 'change-me-portal' })).close();
        break;
      } catch (err) {
        if (i > 100) throw err;
        await sleep(100);
      }
    }
    // Its own server: the default subject prefix and stream name, as in the shipped file.
    env = { ...(await createTestEnv(join(__dirname, 'runbooks'))), prefix: 'baton', stream: 'BATON_EVENTS' };
    portal = await startPortal(env, { NATS_URL: url, NATS_USER: 'portal', NATS_PASSWORD: 'change-me-portal' });
    agent = new AgentProcess('web-1', env, 'role=web', undefined, {
      NATS_URL: url,
      NATS_USER: 'agent-web-1',
      NATS_PASSWORD: 'change-me-web-1',
    }).start();
    await portal.waitForNodes(['web-1'], 30_000);
    web1 = await connect({ servers: url, user: 'agent-web-1', pass: 'change-me-web-1' });
  });

  afterAll(async () => {
    await web1?.close();
    await agent?.stop();
    await portal?.close();
    // The stream lives on this test's server, which goes; only the database is the harness's to drop.
    if (env) await destroyTestEnv({ ...env, stream: 'none' }).catch(() => undefined);
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets the portal and an agent with their own users run a runbook end to end', async () => {
    const id = await portal.run('test.echo', { params: { message: 'only mine' }, targets: { names: ['web-1'] } });
    const execution = await portal.waitForEnd(id);
    expect(execution.status).toBe('succeeded');
    expect((await portal.request('GET', `/api/v1/executions/${id}/logs`)).text).toContain('only mine on');
  });

  it("refuses an agent's user another node's orders, events and heartbeat, and the portal's hello", async () => {
    const violations: PermissionViolationError[] = [];
    void (async () => {
      for await (const status of web1.status()) {
        if (status.type === 'error' && status.error instanceof PermissionViolationError) violations.push(status.error);
      }
    })();
    const orders = web1.subscribe('baton.node.web-2.dispatch');
    const hello = web1.subscribe('baton.agent.hello');
    web1.publish('baton.events.some-execution.web-2', '{}');
    web1.publish('baton.agent.heartbeat.web-2', '{}');
    // Its own subjects are allowed: no violation for these.
    web1.publish('baton.agent.heartbeat.web-1', JSON.stringify({ node: 'web-1', running: [], sentAt: Date.now() }));
    await web1.flush();
    for (let i = 0; i < 50 && violations.length < 4; i++) await sleep(50);
    expect(violations.map((v) => `${v.operation} ${v.subject}`).sort()).toEqual([
      'publish baton.agent.heartbeat.web-2',
      'publish baton.events.some-execution.web-2',
      'subscription baton.agent.hello',
      'subscription baton.node.web-2.dispatch',
    ]);
    expect(orders.isClosed()).toBe(true); // a refused subscription is over: no order of web-2 reaches it
    hello.unsubscribe();
  });
});
