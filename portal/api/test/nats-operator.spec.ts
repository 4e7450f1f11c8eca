/**
 * NATS operator mode as `npm run nats:setup` writes it, on a real nats-server started by the test: the portal's creds
 * work and may create a stream; an agent's user JWT issued by NatsAuthority lets the agent use its own subjects (with
 * its own inbox prefix) and nothing of another node's; expired credentials are refused; and a revocation pushed by
 * the authority closes the agent's live connection and refuses its JWT from then on.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createUser, type KeyPair } from '@nats-io/nkeys';
import {
  connect,
  credsAuthenticator,
  jwtAuthenticator,
  PermissionViolationError,
  type ConnectionOptions,
  type NatsConnection,
} from '@nats-io/transport-node';
import { subjects } from '@baton/shared';
import { NatsAuthority } from '../src/fleet/nats-authority';
import { freePort, sleep } from './harness';
import { stopChild } from './processes';

jest.setTimeout(60_000);

const ROOT = join(__dirname, '..', '..', '..');
const NATS_SERVER = '/usr/sbin/nats-server';
const PREFIX = 'optest';
const STREAM = 'OPTEST_EVENTS';
const s = subjects(PREFIX);

/** `npm run nats:setup -- <args>`, as an operator runs it. */
function runSetup(...args: string[]) {
  const script = join(ROOT, 'scripts', 'nats-setup.ts');
  return spawnSync(process.execPath, ['-r', join(ROOT, 'scripts', 'register.js'), script, ...args], { cwd: ROOT, encoding: 'utf8' });
}

/** KEY=value lines of portal.env. */
function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match) env[match[1]] = match[2];
  }
  return env;
}

/** Resolves with the error the connection closed with, or rejects after `ms`. */
function closedWithin(nc: NatsConnection, ms: number): Promise<Error | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms)));
  return Promise.race([nc.closed().then((err) => (err === undefined ? undefined : (err as Error))), timeout]).finally(() =>
    clearTimeout(timer),
  );
}

describe('NATS operator mode (npm run nats:setup + NatsAuthority)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-nats-operator-'));
  const connections: NatsConnection[] = [];
  let server: ChildProcess;
  let url: string;
  let setupOutput: string;
  let portalEnv: Record<string, string>;
  let authority: NatsAuthority;
  let portal: NatsConnection;

  /** An agent's connection: its own user JWT and inbox prefix, no reconnecting (a closed connection stays closed). */
  async function connectAgent(node: string, jwt: string, key: KeyPair, extra: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
    const nc = await connect({
      servers: url,
      authenticator: jwtAuthenticator(jwt, key.getSeed()),
      inboxPrefix: s.agentInbox(node),
      reconnect: false,
      ...extra,
    });
    connections.push(nc);
    return nc;
  }

  async function issueAgent(node: string, ttlMs = 60_000): Promise<{ key: KeyPair; jwt: string; expiresAt: Date }> {
    const key = createUser();
    const issued = await authority.issueAgentJwt({ userPublicKey: key.getPublicKey(), node, subjectPrefix: PREFIX, ttlMs });
    return { key, ...issued };
  }

  /** Starts nats-server on the written configuration and waits until the portal's creds get in. */
  async function startServer(): Promise<void> {
    server = spawn(NATS_SERVER, ['-c', join(dir, 'nats-server.conf')], { stdio: 'ignore' });
    const portalCreds = readFileSync(portalEnv.NATS_CREDS);
    for (let i = 0; ; i++) {
      try {
        await (await connect({ servers: url, authenticator: credsAuthenticator(portalCreds) })).close();
        return;
      } catch (err) {
        if (i > 100) throw err;
        await sleep(100);
      }
    }
  }

  beforeAll(async () => {
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    const setup = runSetup('--out', dir, '--listen', `127.0.0.1:${port}`, '--name', 'baton-nats-test');
    if (setup.status !== 0) throw new Error(`nats:setup failed: ${setup.stderr}`);
    setupOutput = setup.stdout;
    portalEnv = readEnvFile(join(dir, 'portal.env'));
    await startServer();
    portal = await connect({ servers: url, authenticator: credsAuthenticator(readFileSync(portalEnv.NATS_CREDS)), name: 'test-portal' });
    authority = new NatsAuthority({
      accountSigningSeed: portalEnv.BATON_NATS_ACCOUNT_SIGNING_SEED,
      accountJwt: portalEnv.BATON_NATS_ACCOUNT_JWT,
      operatorSigningSeed: portalEnv.BATON_NATS_OPERATOR_SIGNING_SEED,
      systemCreds: readFileSync(portalEnv.BATON_NATS_SYSTEM_CREDS),
      natsUrl: url,
    });
  });

  afterAll(async () => {
    for (const nc of connections) if (!nc.isClosed()) await nc.close();
    if (portal && !portal.isClosed()) await portal.close();
    await authority?.close();
    await stopChild(server, 5_000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a server configuration nats-server accepts, and the portal settings and secrets readable by the owner only', () => {
    const check = spawnSync(NATS_SERVER, ['-c', join(dir, 'nats-server.conf'), '-t'], { encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`).toContain('is valid');
    expect(portalEnv.NATS_URL).toBe(url);
    expect(portalEnv.NATS_CREDS).toBe(join(dir, 'portal.creds'));
    expect(portalEnv.BATON_NATS_SYSTEM_CREDS).toBe(join(dir, 'sys.creds'));
    expect(portalEnv.BATON_NATS_ACCOUNT_SIGNING_SEED).toMatch(/^SA[A-Z2-7]{56}$/);
    expect(portalEnv.BATON_NATS_OPERATOR_SIGNING_SEED).toMatch(/^SO[A-Z2-7]{56}$/);
    for (const file of [
      'portal.env',
      'portal.creds',
      'sys.creds',
      'keys/operator.nk',
      'keys/operator-signing.nk',
      'keys/baton-account-signing.nk',
    ]) {
      expect(`${file} ${(statSync(join(dir, file)).mode & 0o777).toString(8)}`).toBe(`${file} 600`);
    }
    expect(setupOutput).toContain(`account BATON ${authority.account}`);
    expect(setupOutput).toContain('Next steps:');
    // The cluster configurations include accounts.conf: the same trust as the single server's configuration.
    const conf = readFileSync(join(dir, 'nats-server.conf'), 'utf8');
    const trust = readFileSync(join(dir, 'accounts.conf'), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    expect(trust.filter((line) => !conf.includes(line))).toEqual([]);
    expect(trust.some((line) => line.startsWith('operator: '))).toBe(true);
    expect(setupOutput).not.toContain(portalEnv.BATON_NATS_ACCOUNT_SIGNING_SEED);
  });

  it('refuses to overwrite an existing setup unless --force, and says why a flag is wrong', () => {
    const again = runSetup('--out', dir);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already holds a NATS setup');
    expect(again.stderr).toContain('--force');
    const badListen = runSetup('--out', join(dir, 'other'), '--listen', '4222');
    expect(badListen.status).toBe(2);
    expect(badListen.stderr).toContain('--listen "4222": expected host:port');
    expect(runSetup('--out').stderr).toContain('--out needs a value');
    expect(runSetup('--out', join(dir, 'other'), '--lsiten', 'x').stderr).toContain('unknown argument "--lsiten"');
    expect(existsSync(join(dir, 'other'))).toBe(false);

    const other = join(dir, 'other');
    expect(runSetup('--out', other, '--listen', '127.0.0.1:1').status).toBe(0);
    const before = readFileSync(join(other, 'portal.env'), 'utf8');
    expect(runSetup('--out', other, '--listen', '127.0.0.1:1', '--force').status).toBe(0);
    expect(readFileSync(join(other, 'portal.env'), 'utf8')).not.toBe(before);
  });

  it("lets the portal's creds create the event stream", async () => {
    const jsm = await jetstreamManager(portal);
    const info = await jsm.streams.add({ name: STREAM, subjects: [s.eventsAll] });
    expect(info.config.name).toBe(STREAM);
  });

  it('lets an agent with its issued JWT heartbeat, publish events with JetStream acks, say hello and answer dispatch requests', async () => {
    const { key, jwt } = await issueAgent('web-1');
    const agent = await connectAgent('web-1', jwt, key);

    const heartbeats = portal.subscribe(s.heartbeat('web-1'), { max: 1 });
    portal.subscribe(s.hello, { max: 1, callback: (_err, msg) => void msg.respond(JSON.stringify({ ok: true })) });
    await portal.flush();

    agent.publish(s.heartbeat('web-1'), JSON.stringify({ node: 'web-1' }));
    for await (const msg of heartbeats) expect(msg.json()).toEqual({ node: 'web-1' });

    // The replies to its hello and to its JetStream publish come to its own inbox prefix.
    expect((await agent.request(s.hello, '{}', { timeout: 5_000 })).json()).toEqual({ ok: true });
    const ack = await jetstream(agent).publish(s.events('exec-1', 'web-1'), '{"seq":1}', { msgID: 'exec-1-web-1-1' });
    expect(ack).toMatchObject({ stream: STREAM, seq: 1 });

    agent.subscribe(s.dispatch('web-1'), { callback: (_err, msg) => void msg.respond(JSON.stringify({ accepted: true })) });
    await agent.flush();
    const answer = await portal.request(s.dispatch('web-1'), '{}', { timeout: 5_000 });
    expect(answer.json()).toEqual({ accepted: true });
  });

  it("refuses an agent another node's orders, events and heartbeat, the hello subject and other clients' inboxes", async () => {
    const { key, jwt } = await issueAgent('web-1');
    const agent = await connectAgent('web-1', jwt, key);
    const violations: PermissionViolationError[] = [];
    void (async () => {
      for await (const status of agent.status()) {
        if (status.type === 'error' && status.error instanceof PermissionViolationError) violations.push(status.error);
      }
    })();
    const orders = agent.subscribe(s.dispatch('web-2'));
    agent.subscribe(s.hello);
    agent.subscribe('_INBOX.>');
    agent.publish(s.events('exec-1', 'web-2'), '{}');
    agent.publish(s.heartbeat('web-2'), '{}');
    agent.publish(s.heartbeat('web-1'), '{}'); // its own: no violation
    await agent.flush();
    for (let i = 0; i < 50 && violations.length < 5; i++) await sleep(50);
    expect(violations.map((v) => `${v.operation} ${v.subject}`).sort()).toEqual(
      [
        `publish ${s.events('exec-1', 'web-2')}`,
        `publish ${s.heartbeat('web-2')}`,
        'subscription _INBOX.>',
        `subscription ${s.dispatch('web-2')}`,
        `subscription ${s.hello}`,
      ].sort(),
    );
    expect(orders.isClosed()).toBe(true);
  });

  it('refuses a JWT once it has expired, and closes the connection that used it', async () => {
    // Expiry is in whole seconds: 4 s leaves at least 3 to connect on a busy machine.
    const { key, jwt, expiresAt } = await issueAgent('web-3', 4_000);
    const agent = await connectAgent('web-3', jwt, key);
    await sleep(Math.max(0, expiresAt.getTime() - Date.now()));
    expect(String(await closedWithin(agent, 5_000))).toContain('User Authentication Expired');
    // Within the second of `exp` itself, nats-server 2.9 still lets the JWT in and closes the connection at once;
    // from the next second on it refuses it outright.
    await sleep(Math.max(0, expiresAt.getTime() + 1_000 - Date.now()));
    await expect(connectAgent('web-3', jwt, key)).rejects.toThrow('Authorization Violation');
  });

  it("closes a revoked agent's live connection within 10 s and refuses its JWT; the others stay connected", async () => {
    const revoked = await issueAgent('web-4');
    const other = await issueAgent('web-5');
    const agent = await connectAgent('web-4', revoked.jwt, revoked.key);
    const bystander = await connectAgent('web-5', other.jwt, other.key);

    const startedAt = Date.now();
    await authority.pushRevocations([{ userPublicKey: revoked.key.getPublicKey(), revokedAt: new Date() }]);
    expect(String(await closedWithin(agent, 10_000))).toContain('User Authentication Revoked');
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    await expect(connectAgent('web-4', revoked.jwt, revoked.key)).rejects.toThrow('Authorization Violation');

    expect(bystander.isClosed()).toBe(false);
    await bystander.flush();
    await portal.flush();
  });

  it('keeps a revocation over a server restart, and lifts it when the list no longer holds it', async () => {
    const revoked = await issueAgent('web-6');
    await authority.pushRevocations([{ userPublicKey: revoked.key.getPublicKey(), revokedAt: new Date() }]);
    // The resolver directory now holds the account JWT with the revocation; resolver_preload must not put back the
    // older one nats:setup wrote into the configuration.
    await stopChild(server, 5_000);
    await startServer();
    await expect(connectAgent('web-6', revoked.jwt, revoked.key)).rejects.toThrow('Authorization Violation');

    await authority.pushRevocations([]); // the system connection reconnected by itself
    const again = await connectAgent('web-6', revoked.jwt, revoked.key);
    expect(again.isClosed()).toBe(false);
  });

  it('says so when the creds given as system creds cannot update accounts', async () => {
    const misconfigured = new NatsAuthority({
      accountSigningSeed: portalEnv.BATON_NATS_ACCOUNT_SIGNING_SEED,
      accountJwt: portalEnv.BATON_NATS_ACCOUNT_JWT,
      operatorSigningSeed: portalEnv.BATON_NATS_OPERATOR_SIGNING_SEED,
      systemCreds: readFileSync(portalEnv.NATS_CREDS), // the portal's, not the system user's
      natsUrl: url,
    });
    try {
      await expect(misconfigured.pushRevocations([])).rejects.toThrow(
        /NATS did not answer the account update \(are these system account creds/,
      );
    } finally {
      await misconfigured.close();
    }
  });
});
