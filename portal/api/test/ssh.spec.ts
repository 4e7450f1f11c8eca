/**
 * Agentless nodes end to end: a portal (real PostgreSQL) running runbooks over SSH on real OpenSSH servers that the
 * test starts on loopback ports with generated host and user keys.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestEnv, destroyTestEnv, sleep, startPortal, type Portal, type TestEnv } from './harness';
import { fingerprintOfFile, freePorts, generateKey, SshdInstance, startSshdFleet, type SshKeyPair } from './sshd-fixture';

jest.setTimeout(120_000);

const PWNED = '/tmp/baton-ssh-pwned';
/** Fewer than the 20-node fleet, so that some node runs wait for a connection. */
const MAX_CONNECTIONS = 12;

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Established TCP connections to a loopback port, from /proc (the port of a jump host sees only the portal). */
function establishedTo(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const rows = readFileSync('/proc/net/tcp', 'utf8').trim().split('\n').slice(1);
  // Columns: sl, local address, remote address, state (01 = ESTABLISHED). Only the portal's side: remote = port.
  return rows.map((r) => r.trim().split(/\s+/)).filter(([, , remote, state]) => remote.endsWith(`:${hexPort}`) && state === '01').length;
}

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

describe('SSH nodes', () => {
  let env: TestEnv;
  let portal: Portal;
  let keys: string;
  let userKey: SshKeyPair;
  let strangerKey: SshKeyPair;
  let main: SshdInstance;
  let inner: SshdInstance;
  let many: { port: number; hostKey: string }[];
  const sshds: SshdInstance[] = [];

  const node = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    executor: 'ssh',
    host: '127.0.0.1',
    port: main.port,
    user: main.user,
    keySecret: 'ssh.test-key',
    hostKey: main.hostKeyFingerprint,
    labels: { role: 'ssh-test' },
    ...extra,
  });

  async function addNode(body: Record<string, unknown>): Promise<void> {
    const res = await portal.request('POST', '/api/v1/nodes', body);
    if (res.status !== 201) throw new Error(`POST /api/v1/nodes: ${res.status} ${res.text}`);
  }

  async function runOn(runbook: string, names: string[], params: Record<string, unknown> = {}) {
    const id = await portal.run(runbook, { params, targets: { names } });
    const execution = await portal.waitForEnd(id, 60_000);
    const log = (await portal.request('GET', `/api/v1/executions/${id}/logs`)).text;
    return { id, execution, log };
  }

  async function auditEvents(action: string): Promise<{ target: string; details: Record<string, string> }[]> {
    return (await portal.request('GET', `/api/v1/audit?action=${action}&limit=100`)).body.items;
  }

  beforeAll(async () => {
    keys = mkdtempSync(join(tmpdir(), 'baton-ssh-keys-'));
    userKey = generateKey(keys, 'user');
    strangerKey = generateKey(keys, 'stranger');
    const [mainPort, innerPort] = await freePorts(2);
    main = new SshdInstance([mainPort], [userKey.publicKey]);
    inner = new SshdInstance([innerPort], [userKey.publicKey]);
    sshds.push(main, inner);
    await Promise.all([main.start(), inner.start()]);
    const fleet = await startSshdFleet(20, [userKey.publicKey]);
    sshds.push(...fleet.instances);
    many = fleet.endpoints;

    // A runbooks directory of this test's own, declaring one node in YAML as an operator would.
    const dir = mkdtempSync(join(tmpdir(), 'baton-ssh-runbooks-'));
    copyFileSync(join(__dirname, 'runbooks-ssh', 'ssh.yaml'), join(dir, 'ssh.yaml'));
    writeFileSync(
      join(dir, 'nodes.yaml'),
      [
        'apiVersion: baton/v1',
        'kind: Node',
        'name: ssh-file',
        'host: 127.0.0.1',
        `port: ${main.port}`,
        `user: ${main.user}`,
        'keySecret: ssh.test-key',
        `hostKey: "${main.hostKeyFingerprint}"`,
        'labels: { declared: yaml }',
      ].join('\n') + '\n',
    );
    env = await createTestEnv(dir);
    portal = await startPortal(env, {
      BATON_SSH_CONNECT_TIMEOUT_MS: '3000',
      BATON_SSH_CHECK_MS: '500',
      BATON_SSH_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    });
    expect((await portal.request('PUT', '/api/v1/secrets/ssh.test-key', { value: userKey.privateKey })).status).toBe(200);
    expect((await portal.request('PUT', '/api/v1/secrets/ssh.stranger-key', { value: strangerKey.privateKey })).status).toBe(200);
    await addNode(node('ssh-a'));
  });

  afterAll(async () => {
    await portal?.close();
    if (env) await destroyTestEnv(env);
    for (const sshd of sshds) await sshd.stop();
    rmSync(keys, { recursive: true, force: true });
    rmSync(PWNED, { force: true });
  });

  it('lists SSH nodes from YAML and the API with their reachability, and keeps file-declared ones read-only', async () => {
    await portal.waitForNodes(['ssh-file', 'ssh-a'], 10_000);
    const nodes = (await portal.request('GET', '/api/v1/nodes')).body as any[];
    const fromFile = nodes.find((n) => n.name === 'ssh-file');
    expect(fromFile).toMatchObject({ executor: 'ssh', status: 'online', labels: { declared: 'yaml' } });
    expect(fromFile.ssh).toMatchObject({ host: '127.0.0.1', port: main.port, hostKey: main.hostKeyFingerprint, unreachableReason: null });
    expect(fromFile.ssh.sourceFile).toMatch(/nodes\.yaml$/);
    expect(JSON.stringify(nodes)).not.toContain('PRIVATE KEY');
    expect((await portal.request('PATCH', '/api/v1/nodes/ssh-file', { port: 1 })).status).toBe(409);
    expect((await portal.request('DELETE', '/api/v1/nodes/ssh-file')).status).toBe(409);
  });

  it('validates, updates and deletes nodes through the API', async () => {
    const bad = await portal.request('POST', '/api/v1/nodes', { ...node('ssh-bad'), hostKey: 'md5:00', keySecret: undefined });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/hostKey/);
    expect((await portal.request('POST', '/api/v1/nodes', node('ssh-a'))).status).toBe(409);
    await addNode(node('ssh-temp', { port: 1 }));
    let temp = ((await portal.request('GET', '/api/v1/nodes')).body as any[]).find((n) => n.name === 'ssh-temp');
    expect(temp.status).toBe('offline');
    expect(temp.ssh.unreachableReason).toMatch(/connection refused by 127\.0\.0\.1:1/);
    const patched = await portal.request('PATCH', '/api/v1/nodes/ssh-temp', { port: main.port, labels: { x: 'y' } });
    expect(patched.status).toBe(200);
    temp = ((await portal.request('GET', '/api/v1/nodes')).body as any[]).find((n) => n.name === 'ssh-temp');
    expect(temp).toMatchObject({ status: 'online', labels: { x: 'y' } });
    expect((await portal.request('DELETE', '/api/v1/nodes/ssh-temp')).status).toBe(204);
    expect((await portal.request('DELETE', '/api/v1/nodes/ssh-temp')).status).toBe(404);
  });

  it('runs steps over SSH with outputs handed on, stderr streamed, and the remote temp files removed', async () => {
    const { execution, log } = await runOn('ssh.outputs', ['ssh-a'], { who: 'ssh' });
    expect(execution.status).toBe('succeeded');
    const [run] = execution.nodes;
    expect(run).toMatchObject({ node: 'ssh-a', executor: 'ssh', status: 'succeeded' });
    expect(run.steps.find((s: any) => s.id === 'greet')).toMatchObject({ exitCode: 0, outputs: { greeting: 'hello ssh' } });
    expect(log).toContain('got: hello ssh');
    expect(log).toContain('on stderr');
    const outputFile = /output file at (\S+)/.exec(log)![1];
    expect(outputFile).toMatch(/^\/tmp\/baton-/);
    expect(await waitUntil(() => !existsSync(join(outputFile, '..')))).toBe(true);
  });

  it('shares the scratch directory between steps started together, closes stdin, keeps output edge cases', async () => {
    const { execution, log } = await runOn('ssh.workdir', ['ssh-a']);
    expect(execution.status).toBe('succeeded');
    const steps = execution.nodes[0].steps;
    expect(steps.find((s: any) => s.id === 'both')).toMatchObject({ status: 'succeeded', exitCode: 0, outputs: { x: '1', y: '2' } });
    expect(log).toContain('left\nright\n');
    expect(log).toContain('no newline at the end');
    expect(log).toContain("a line that starts like the wrapper's marker: baton-\n");
    expect(log).toContain('to stderr last');
    expect(log).not.toContain('baton-marker-'); // nothing of the wrapper's own lines shows
    const scratch = /scratch at (\S+)/.exec(log)![1];
    expect(scratch).toMatch(/^\/tmp\/baton-[0-9a-f]{24}$/);
    expect(await waitUntil(() => !existsSync(scratch))).toBe(true);
  });

  it("runs wave after wave of parallel steps within sshd's default of 10 sessions per connection", async () => {
    const [port] = await freePorts(1);
    const strict = new SshdInstance([port], [userKey.publicKey], 10);
    sshds.push(strict);
    await strict.start();
    await addNode(node('ssh-ten-sessions', { port, hostKey: strict.hostKeyFingerprint }));
    const { execution, log } = await runOn('ssh.waves', ['ssh-ten-sessions']);
    expect(execution.nodes[0].steps.filter((s: any) => s.status === 'succeeded')).toHaveLength(20);
    expect(execution.status).toBe('succeeded');
    expect(log.split('\n').filter(Boolean).sort()).toEqual([...Array(10).keys()].flatMap((i) => [`a${i}`, `b${i}`]).sort());
  });

  it.each([
    ['quotes \' and "', `it's "quoted" ''`],
    ['command substitution', `$(touch ${PWNED})`],
    ['backticks', `\`touch ${PWNED}\``],
    ['semicolons', `x; touch ${PWNED}; echo`],
    ['newlines', `a\ntouch ${PWNED}\nb`],
    ['a quote breaking out', `'; touch ${PWNED}; echo '`],
    ['unicode', 'é ü 日本語 🚀'],
  ])('passes a parameter with %s literally, running nothing', async (_what, text) => {
    rmSync(PWNED, { force: true });
    const { execution, log } = await runOn('ssh.echo', ['ssh-a'], { text });
    expect(execution.status).toBe('succeeded');
    expect(log).toBe(`[${text}]`);
    expect(existsSync(PWNED)).toBe(false);
  });

  it('kills the remote process group when a step times out', async () => {
    const pidfile = join(keys, 'timeout.pid');
    const { execution, log } = await runOn('ssh.sleep', ['ssh-a'], { pidfile });
    // As on agents: a step that times out fails its node run; only the runbook's own timeout times the run out.
    expect(execution.status).toBe('failed');
    expect(execution.nodes[0].steps[0]).toMatchObject({
      id: 'wait',
      status: 'timed_out',
      exitCode: 143,
      error: 'step timeout of 1500ms reached',
    });
    const pid = Number(readFileSync(pidfile, 'utf8'));
    expect(await waitUntil(() => !isAlive(pid))).toBe(true);
    // The killed step could not clean up after itself: the run did.
    const scratch = /scratch at (\S+)/.exec(log)![1];
    expect(await waitUntil(() => !existsSync(scratch))).toBe(true);
  });

  it('kills the remote process group on cancel', async () => {
    const pidfile = join(keys, 'cancel.pid');
    const id = await portal.run('ssh.hang', { params: { pidfile }, targets: { names: ['ssh-a'] } });
    expect(await waitUntil(() => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '', 10_000)).toBe(true);
    const pid = Number(readFileSync(pidfile, 'utf8'));
    expect(isAlive(pid)).toBe(true);
    expect((await portal.request('POST', `/api/v1/executions/${id}/cancel`)).status).toBe(202);
    const execution = await portal.waitForEnd(id);
    expect(execution.status).toBe('cancelled');
    expect(await waitUntil(() => !isAlive(pid))).toBe(true);
  });

  it('refuses a host whose key does not match the pinned one, naming both fingerprints, and audits it', async () => {
    const wrong = fingerprintOfFile(`${inner.hostKeyFile}.pub`);
    await addNode(node('ssh-wrong-hostkey', { hostKey: wrong }));
    const { execution } = await runOn('ssh.uptime', ['ssh-wrong-hostkey']);
    expect(execution.nodes[0].status).toBe('unreachable');
    expect(execution.nodes[0].reason).toContain('did not match');
    expect(execution.nodes[0].reason).toContain(`expected ${wrong}`);
    expect(execution.nodes[0].reason).toContain(`seen ${main.hostKeyFingerprint}`);
    const events = await auditEvents('node.hostkey.mismatch');
    expect(events.find((e) => e.target === 'node:ssh-wrong-hostkey')?.details).toEqual({ expected: wrong, seen: main.hostKeyFingerprint });
  });

  it('pins the first host key under tofu and refuses a different one afterwards', async () => {
    const [port] = await freePorts(1);
    const first = new SshdInstance([port], [userKey.publicKey]);
    sshds.push(first);
    await first.start();
    await addNode(node('ssh-tofu', { port, hostKey: 'tofu' }));
    expect((await runOn('ssh.uptime', ['ssh-tofu'])).execution.status).toBe('succeeded');
    const pinned = ((await portal.request('GET', '/api/v1/nodes')).body as any[]).find((n) => n.name === 'ssh-tofu').ssh;
    expect(pinned).toMatchObject({ hostKey: 'tofu', pinnedHostKey: first.hostKeyFingerprint });
    expect((await auditEvents('node.hostkey.pinned')).find((e) => e.target === 'node:ssh-tofu')?.details).toEqual({
      hostKey: first.hostKeyFingerprint,
    });
    // The "same" host comes back with another key: a reinstall, or someone in the middle.
    await first.stop();
    const second = new SshdInstance([port], [userKey.publicKey]);
    sshds.push(second);
    await second.start();
    const { execution } = await runOn('ssh.uptime', ['ssh-tofu']);
    expect(execution.nodes[0]).toMatchObject({ status: 'unreachable' });
    expect(execution.nodes[0].reason).toContain(`expected ${first.hostKeyFingerprint}, seen ${second.hostKeyFingerprint}`);
  });

  it('ends unreachable with a reason for a refused key, a closed port and an unknown host', async () => {
    await addNode(node('ssh-stranger', { keySecret: 'ssh.stranger-key' }));
    const [closedPort] = await freePorts(1);
    await addNode(node('ssh-closed', { port: closedPort }));
    await addNode(node('ssh-nowhere', { host: 'no-such-host.invalid' }));
    const { execution } = await runOn('ssh.uptime', ['ssh-stranger', 'ssh-closed', 'ssh-nowhere']);
    const reasons = Object.fromEntries(execution.nodes.map((n: any) => [n.node, `${n.status}: ${n.reason}`]));
    expect(reasons['ssh-stranger']).toMatch(new RegExp(`^unreachable: authentication as "${main.user}" on 127.0.0.1:\\d+ failed`));
    expect(reasons['ssh-closed']).toBe(
      `unreachable: connection refused by 127.0.0.1:${closedPort} (is sshd running and listening on that port?)`,
    );
    expect(reasons['ssh-nowhere']).toMatch(/^unreachable: DNS lookup of "no-such-host.invalid" failed/);
  });

  it('reaches a node through a jump host', async () => {
    await addNode(node('ssh-bastion'));
    await addNode(node('ssh-inner', { port: inner.port, hostKey: inner.hostKeyFingerprint, jumpHost: 'ssh-bastion' }));
    const { execution, log } = await runOn('ssh.echo', ['ssh-inner'], { text: 'through the bastion' });
    expect(execution.status).toBe('succeeded');
    expect(log).toBe('[through the bastion]');
    expect((await portal.request('DELETE', '/api/v1/nodes/ssh-bastion')).status).toBe(409);
  });

  it('shares one connection to a jump host between the node runs going through it', async () => {
    for (const name of ['ssh-inner-2', 'ssh-inner-3']) {
      await addNode(node(name, { port: inner.port, hostKey: inner.hostKeyFingerprint, jumpHost: 'ssh-bastion' }));
    }
    const marks = mkdtempSync(join(tmpdir(), 'baton-ssh-marks-'));
    const id = await portal.run('ssh.mark', { params: { dir: marks }, targets: { names: ['ssh-inner', 'ssh-inner-2', 'ssh-inner-3'] } });
    expect(await waitUntil(() => readdirSync(marks).length === 3, 20_000)).toBe(true);
    // Three node runs on the inner sshd, all through one connection from the portal to the bastion's sshd (the
    // reachability check may add a short-lived one to the bastion's port: a moment without it is enough).
    expect(establishedTo(inner.port)).toBe(3);
    expect(await waitUntil(() => establishedTo(main.port) === 1, 3000)).toBe(true);
    expect((await portal.request('POST', `/api/v1/executions/${id}/cancel`)).status).toBe(202);
    expect((await portal.waitForEnd(id, 30_000)).status).toBe('cancelled');
    rmSync(marks, { recursive: true, force: true });
  });

  it(`fans out to 20 nodes, ${MAX_CONNECTIONS} connections at a time`, async () => {
    for (const [i, { port, hostKey }] of many.entries()) {
      await addNode(node(`ssh-many-${i}`, { port, hostKey, labels: { fleet: 'many' } }));
    }
    const id = await portal.run('ssh.uptime', { targets: { labels: { fleet: 'many' } } });
    const execution = await portal.waitForEnd(id, 60_000);
    expect(execution.nodes).toHaveLength(20);
    expect(execution.nodes.filter((n: any) => n.status === 'succeeded')).toHaveLength(20);
    expect(execution.status).toBe('succeeded');
  });

  it("counts the reachable SSH nodes matching a pool's selector as its actual size", async () => {
    const pool = { id: 'ssh.pool', selector: { labels: { fleet: 'many' } }, min: 0, max: 30 };
    const provider = { runbook: 'ssh.uptime' };
    expect((await portal.request('POST', '/api/v1/pools', { ...pool, scaleOut: provider, scaleIn: provider })).status).toBe(201);
    const view = (await portal.request('GET', '/api/v1/pools/ssh.pool')).body;
    expect(view.actual).toBe(20);
    expect(view.nodes).toHaveLength(20);
    expect(view.nodes).toContain('ssh-many-0');
  });

  it('runs nothing on node runs still waiting for a connection when the execution is cancelled', async () => {
    const marks = mkdtempSync(join(tmpdir(), 'baton-ssh-marks-'));
    const id = await portal.run('ssh.mark', { params: { dir: marks }, targets: { labels: { fleet: 'many' } } });
    expect(await waitUntil(() => readdirSync(marks).length === MAX_CONNECTIONS, 20_000)).toBe(true);
    expect((await portal.request('POST', `/api/v1/executions/${id}/cancel`)).status).toBe(202);
    const execution = await portal.waitForEnd(id, 30_000);
    expect(execution.status).toBe('cancelled');
    expect(execution.nodes.every((n: any) => n.status === 'cancelled')).toBe(true);
    await sleep(1500); // the freed connections went to the waiting node runs: they must not have started
    expect(readdirSync(marks)).toHaveLength(MAX_CONNECTIONS);
    expect(execution.nodes.filter((n: any) => n.steps.length > 0)).toHaveLength(MAX_CONNECTIONS);
    rmSync(marks, { recursive: true, force: true });
  });

  it('runs one execution on the local node and SSH nodes together', async () => {
    const { execution, log } = await runOn('ssh.echo', ['local', 'ssh-a'], { text: 'mixed' });
    expect(execution.status).toBe('succeeded');
    expect(execution.nodes.map((n: any) => [n.node, n.executor, n.status])).toEqual([
      ['local', 'local', 'succeeded'],
      ['ssh-a', 'ssh', 'succeeded'],
    ]);
    expect(log).toBe('[mixed][mixed]');
  });
});
