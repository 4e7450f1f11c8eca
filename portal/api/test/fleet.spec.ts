/**
 * Fleet enrollment end to end, in NATS operator mode as `npm run nats:setup` writes it, on a real nats-server
 * started by the test: real agent processes enroll with tokens, wait for an admin, receive user JWTs issued by the
 * portal, run runbooks, renew their credentials, and are cut off when revoked. Bad tokens and keys get clear errors.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, credsAuthenticator, jwtAuthenticator, PermissionViolationError } from '@nats-io/transport-node';
import { subjects } from '@baton/shared';
import { HTTP_SIGNATURE_HEADER, IdentitySigner, fingerprint, generateAgentKeys, type AgentKeys } from '@baton/shared/node';
import { AgentProcess, createTestEnv, destroyTestEnv, freePort, sleep, startPortal, type Portal, type TestEnv } from './harness';
import { stopChild } from './processes';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..', '..');

/** An agent's enrollment request, signed with its key as the agent signs it; rejects with the portal's answer. */
class Enroller {
  constructor(
    private readonly portalUrl: string,
    private readonly name: string,
    private readonly keys: AgentKeys,
  ) {}

  async enroll(token: string | undefined, labels: Record<string, string>): Promise<unknown> {
    const { publicKey, boxPublicKey } = this.keys;
    const body = JSON.stringify({ name: this.name, publicKey, boxPublicKey, labels, token, sentAt: Date.now() });
    const res = await fetch(`${this.portalUrl}/api/v1/agents/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [HTTP_SIGNATURE_HEADER]: new IdentitySigner(this.keys.seed).sign(body) },
      body,
    });
    const answer = (await res.json()) as { message?: string };
    if (!res.ok) throw new Error(`portal refused (${res.status}): ${answer.message}`);
    return answer;
  }
}

describe('fleet enrollment in NATS operator mode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-fleet-'));
  let server: ChildProcess;
  let natsUrl: string;
  let env: TestEnv;
  let portal: Portal;
  const agents: AgentProcess[] = [];

  function agent(name: string, labels: string, token?: string): AgentProcess {
    const process = new AgentProcess(name, portal, labels, token ? { BATON_ENROLL_TOKEN: token } : {});
    agents.push(process);
    return process.start();
  }

  async function createToken(body: Record<string, unknown>): Promise<{ id: string; token: string }> {
    const res = await portal.request('POST', '/api/v1/enrollment-tokens', { expiresIn: '1h', maxUses: 5, autoAccept: false, ...body });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function agentStatus(name: string): Promise<any> {
    return ((await portal.request('GET', '/api/v1/agents')).body as { name: string }[]).find((a) => a.name === name);
  }

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }

  beforeAll(async () => {
    const port = await freePort();
    // `npm run nats:setup`, as an operator runs it.
    const setup = spawnSync(
      process.execPath,
      ['-r', join(ROOT, 'scripts/register.js'), join(ROOT, 'scripts/nats-setup.ts'), '--out', dir, '--listen', `127.0.0.1:${port}`],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (setup.status !== 0) throw new Error(`nats:setup failed: ${setup.stderr}`);
    natsUrl = `nats://127.0.0.1:${port}`;
    const portalVars = Object.fromEntries(
      readFileSync(join(dir, 'portal.env'), 'utf8')
        .split('\n')
        .map((line) => /^([A-Z_]+)=(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], m[2]]),
    );
    server = spawn('/usr/sbin/nats-server', ['-c', join(dir, 'nats-server.conf')], { stdio: 'ignore' });
    const creds = readFileSync(portalVars.NATS_CREDS);
    await waitFor('nats-server', async () => {
      const nc = await connect({ servers: natsUrl, authenticator: credsAuthenticator(creds) }).catch(() => undefined);
      await nc?.close();
      return nc !== undefined;
    });
    env = await createTestEnv(join(__dirname, 'runbooks'));
    portal = await startPortal(env, { ...portalVars, BATON_AUTO_ACCEPT: 'false', BATON_AGENT_CREDENTIALS_TTL: '12s' });
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await portal?.close();
    await stopChild(server, 5000);
    if (env) await destroyTestEnv(env);
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows an enrolling agent as pending with the fingerprint it printed, runs nothing until an admin accepts it', async () => {
    const { token } = await createToken({ description: 'web fleet' });
    const web = agent('fleet-web-1', 'role=fleetweb', token);
    const printed = await waitFor('the printed fingerprint', async () => /fingerprint (SHA256:\S+)/.exec(web.output)?.[1]);
    const pending = await waitFor('the pending request', () => agentStatus('fleet-web-1'));
    expect(pending).toMatchObject({ status: 'pending', fingerprint: printed, labels: { role: 'fleetweb' }, decidedBy: null });
    expect((await portal.request('GET', '/api/v1/nodes')).body.some((n: { name: string }) => n.name === 'fleet-web-1')).toBe(false);

    const accepted = await portal.request('POST', '/api/v1/agents/fleet-web-1/accept', {});
    expect(accepted.body).toMatchObject({ status: 'accepted', decidedBy: 'admin' });
    await portal.waitForNodes(['fleet-web-1'], 20_000);
    const id = await portal.run('test.echo', { params: { message: 'enrolled' }, targets: { names: ['fleet-web-1'] } });
    expect((await portal.waitForEnd(id)).status).toBe('succeeded');

    const tokens = (await portal.request('GET', '/api/v1/enrollment-tokens')).body;
    expect(tokens[0]).toMatchObject({ description: 'web fleet', uses: 1, maxUses: 5, status: 'active' });
    expect(JSON.stringify(tokens)).not.toContain(token);
    const audit = (await portal.request('GET', '/api/v1/audit?target=agent:fleet-web-1&limit=50')).body.items.map((e: any) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['agent.enroll', 'agent.accept', 'agent.credentials.issued']));
  });

  it("gives an enrolled agent's credentials nothing of another node: the real server refuses", async () => {
    const web = agents.find((a) => a.name === 'fleet-web-1')!;
    const identity = JSON.parse(readFileSync(join(web.stateDir, 'identity.json'), 'utf8'));
    const credentials = JSON.parse(readFileSync(join(web.stateDir, 'credentials.json'), 'utf8'));
    expect(credentials.jwt).toMatch(/^eyJ/);
    const s = subjects(env.prefix);
    const nc = await connect({
      servers: natsUrl,
      authenticator: jwtAuthenticator(credentials.jwt, new TextEncoder().encode(identity.seed)),
      inboxPrefix: s.agentInbox('fleet-web-1'),
    });
    const violations: PermissionViolationError[] = [];
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'error' && status.error instanceof PermissionViolationError) violations.push(status.error);
      }
    })();
    nc.subscribe(s.dispatch('other-node'));
    nc.publish(s.events('00000000-0000-4000-8000-000000000000', 'other-node'), '{}');
    await nc.flush();
    for (let i = 0; i < 50 && violations.length < 2; i++) await sleep(50);
    await nc.close();
    expect(violations.map((v) => `${v.operation} ${v.subject}`).sort()).toEqual([
      `publish ${s.events('00000000-0000-4000-8000-000000000000', 'other-node')}`,
      `subscription ${s.dispatch('other-node')}`,
    ]);
  });

  it('renews credentials before they expire and keeps running past the first expiry', async () => {
    const web = agents.find((a) => a.name === 'fleet-web-1')!;
    await waitFor('a renewal', async () => web.output.includes('credentials renewed'), 20_000);
    await sleep(6000); // past the 12 s lifetime of the first JWT
    const id = await portal.run('test.echo', { params: { message: 'renewed' }, targets: { names: ['fleet-web-1'] } });
    expect((await portal.waitForEnd(id)).status).toBe('succeeded');
    const audit = (await portal.request('GET', '/api/v1/audit?action=agent.credentials.renewed&limit=5')).body.items;
    expect(audit.length).toBeGreaterThan(0);
  });

  it('accepts at once with an autoAccept token, with the token labels pinned', async () => {
    const { token } = await createToken({ autoAccept: true, labels: { tier: 'gold' } });
    agent('fleet-auto-1', 'role=fleetauto', token);
    await portal.waitForNodes(['fleet-auto-1'], 20_000);
    expect(await agentStatus('fleet-auto-1')).toMatchObject({ status: 'accepted', labels: { role: 'fleetauto', tier: 'gold' } });
    expect((await agentStatus('fleet-auto-1')).decidedBy).toMatch(/^token:/);

    const client = new Enroller(portal.url, 'fleet-auto-2', generateAgentKeys());
    await expect(client.enroll(token, { tier: 'silver' })).rejects.toThrow('this token admits tier=gold only');
  });

  it('refuses a rejected agent, which exits saying so', async () => {
    const { token } = await createToken({});
    const doubtful = agent('fleet-doubt-1', '', token);
    await waitFor('the pending request', () => agentStatus('fleet-doubt-1'));
    expect((await portal.request('POST', '/api/v1/agents/fleet-doubt-1/reject', { reason: 'unknown host' })).status).toBe(200);
    expect(await doubtful.exited()).toBe(1);
    expect(doubtful.output).toContain('agent fleet-doubt-1 was rejected: unknown host');
    const again = await portal.request('POST', '/api/v1/agents/fleet-doubt-1/accept', {});
    expect(again.status).toBe(409);
  });

  it('says which token problem it is: unknown, expired, revoked, used up, missing', async () => {
    const enroll = (token: string | undefined) =>
      new Enroller(portal.url, `fleet-bad-${Math.random().toString(36).slice(2, 8)}`, generateAgentKeys()).enroll(token, {});
    await expect(enroll('bte_0000000000000000_' + 'x'.repeat(43))).rejects.toThrow('(401): enrollment token unknown');
    await expect(enroll('not a token')).rejects.toThrow('(401): enrollment token unknown');
    await expect(enroll(undefined)).rejects.toThrow('(401): enrollment token required');

    const short = await createToken({ expiresIn: '1s' });
    await sleep(1100);
    await expect(enroll(short.token)).rejects.toThrow('(401): enrollment token expired');

    const revoked = await createToken({});
    expect((await portal.request('DELETE', `/api/v1/enrollment-tokens/${revoked.id}`)).status).toBe(204);
    await expect(enroll(revoked.token)).rejects.toThrow('(401): enrollment token revoked');

    const single = await createToken({ maxUses: 1 });
    await enroll(single.token);
    await expect(enroll(single.token)).rejects.toThrow('(401): enrollment token used up');
  });

  it('refuses a malformed key, a wrong signature and a second key for an enrolled name (audited)', async () => {
    const { token } = await createToken({});
    const post = (body: unknown, signature = 'AAAA') =>
      fetch(`${portal.url}/api/v1/agents/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-baton-signature': signature },
        body: JSON.stringify(body),
      });
    const keys = generateAgentKeys();
    const base = { name: 'fleet-odd-1', boxPublicKey: keys.boxPublicKey, labels: {}, token, sentAt: Date.now() };
    const malformed = await post({ ...base, publicKey: 'UNOTAKEY' });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).message).toContain('publicKey');
    const unsigned = await post({ ...base, publicKey: keys.publicKey });
    expect(unsigned.status).toBe(401);
    expect((await unsigned.json()).message).toContain('not signed by the key it presents');

    const takeover = new Enroller(portal.url, 'fleet-web-1', generateAgentKeys());
    await expect(takeover.enroll(token, {})).rejects.toThrow(/\(409\): node name "fleet-web-1" is enrolled with another key/);
    const audit = (await portal.request('GET', '/api/v1/audit?action=agent.takeover.refused')).body.items;
    expect(audit[0]).toMatchObject({ target: 'agent:fleet-web-1' });
    expect((await agentStatus('fleet-web-1')).fingerprint).not.toBe(fingerprint(generateAgentKeys().publicKey));
  });

  it('revokes: disconnects the agent within 10 s, ends its running node run lost, refuses it ever after', async () => {
    const victim = agents.find((a) => a.name === 'fleet-auto-1')!;
    const id = await portal.run('test.sleep', { params: { nap_seconds: 30 }, targets: { names: ['fleet-auto-1'] } });
    await waitFor('the run to start', async () => (await portal.request('GET', `/api/v1/executions/${id}`)).body.status === 'running');
    const revokedAt = Date.now();
    const res = await portal.request('POST', '/api/v1/agents/fleet-auto-1/revoke', { reason: 'host compromised' });
    expect(res.body).toMatchObject({ status: 'revoked', reason: 'host compromised' });
    const execution = await portal.waitForEnd(id);
    expect(execution.nodes[0]).toMatchObject({ status: 'lost', reason: 'agent revoked' });
    expect(await victim.exited(10_000)).toBe(1);
    expect(Date.now() - revokedAt).toBeLessThan(10_000);
    expect(victim.output).toContain('agent fleet-auto-1 was revoked');

    // Started again with the same key: refused before it reaches NATS.
    victim.start();
    expect(await victim.exited()).toBe(1);
    expect(victim.output).toMatch(/revoked/);
  });
});
