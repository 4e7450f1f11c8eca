/**
 * Test harness: a portal on its own PostgreSQL database, NATS subject prefix and JetStream stream, plus real
 * agent processes. Each test file builds what it needs and removes it afterwards.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createApp } from '../src/app';
import { parseConfig } from '../src/core/config';
import { stopChild } from './processes';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const ADMIN_PASSWORD = 'test-admin-password';
const ROOT = join(__dirname, '..', '..', '..');

export interface TestEnv {
  id: string;
  databaseUrl: string;
  prefix: string;
  stream: string;
  runbooksDir: string;
}

export async function createTestEnv(runbooksDir = join(ROOT, 'runbooks')): Promise<TestEnv> {
  const id = `t${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE baton_${id}`);
  await admin.end();
  const databaseUrl = PG_ADMIN_URL.replace(/\/[^/]*$/, `/baton_${id}`);
  return { id, databaseUrl, prefix: `bt_${id}`, stream: `BATON_${id}`, runbooksDir };
}

export async function destroyTestEnv(env: TestEnv): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(env.stream).catch(() => undefined);
  await nc.close();
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS baton_${env.id} WITH (FORCE)`);
  await admin.end();
}

/** The environment of a test portal on `env`: its own database, subject prefix and stream, short heartbeats. */
export function portalEnv(env: TestEnv, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: env.databaseUrl,
    NATS_URL,
    RUNBOOKS_DIR: env.runbooksDir,
    BATON_ADMIN_PASSWORD: ADMIN_PASSWORD,
    BATON_SUBJECT_PREFIX: env.prefix,
    BATON_EVENT_STREAM: env.stream,
    BATON_HEARTBEAT_MS: '300',
    BATON_DISPATCH_TIMEOUT_MS: '1500',
    BATON_LOG_LEVEL: 'warn',
    BATON_WEB_DIR: '/nonexistent',
    // Agents started by tests enroll without a token, as on a developer's laptop; the fleet spec turns it off.
    BATON_AUTO_ACCEPT: 'true',
    ...extra,
  };
}

export async function startPortal(env: TestEnv, extra: Record<string, string> = {}): Promise<Portal> {
  const config = parseConfig({
    PORT: '0',
    ...portalEnv(env, extra),
  });
  const app = await createApp(config);
  // A random free port, unless the test chose one (`PORT` in extra), e.g. to name it in a URL given to another server.
  await app.listen(config.port, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const portal = new Portal(app, `http://127.0.0.1:${address.port}`);
  await portal.login('admin', ADMIN_PASSWORD);
  return portal;
}

export class Portal {
  token = '';

  constructor(
    readonly app: INestApplication,
    readonly url: string,
  ) {}

  async login(username: string, password: string): Promise<void> {
    const res = await fetch(`${this.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    this.token = ((await res.json()) as { accessToken: string }).accessToken;
  }

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text };
  }

  async run(runbook: string, body: unknown): Promise<string> {
    const res = await this.request('POST', `/api/v1/runbooks/${runbook}/executions`, body);
    if (res.status !== 201) throw new Error(`run failed: ${res.status} ${res.text}`);
    return res.body.id;
  }

  /** Polls until the execution reaches a final state. */
  async waitForEnd(id: string, timeoutMs = 20_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.request('GET', `/api/v1/executions/${id}`);
      if (!['queued', 'running', 'waiting'].includes(res.body.status)) return res.body;
      if (Date.now() > deadline) throw new Error(`execution ${id} still ${res.body.status}: ${JSON.stringify(res.body)}`);
      await sleep(50);
    }
  }

  async waitForNodes(names: string[], timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nodes = (await this.request('GET', '/api/v1/nodes')).body as { name: string; status: string }[];
      if (names.every((n) => nodes.some((x) => x.name === n && x.status === 'online'))) return;
      if (Date.now() > deadline) throw new Error(`nodes ${names.join(',')} not online: ${JSON.stringify(nodes)}`);
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}

/** A real agent process, started the way an operator starts one (`npm run agent`): it enrolls with the portal. */
export class AgentProcess {
  private child?: ChildProcess;
  output = '';
  /** Its keys, credentials and spool: reused when the same AgentProcess starts again. */
  readonly stateDir = mkdtempSync(join(tmpdir(), 'baton-agent-'));

  constructor(
    readonly name: string,
    /** The portal it enrolls with (it tells the agent where NATS is). */
    private readonly portal: { url: string },
    private readonly labels = '',
    /** More environment or flags, e.g. BATON_ENROLL_TOKEN. */
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  start(): this {
    this.output = '';
    this.child = spawn(
      process.execPath,
      [
        '-r',
        join(ROOT, 'scripts/register.js'),
        join(ROOT, 'agent/src/main.ts'),
        ...['--name', this.name, '--labels', this.labels, '--portal', this.portal.url, '--state-dir', this.stateDir],
      ],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...this.extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    return this;
  }

  /** Resolves with the exit code once the process has ended by itself. */
  exited(timeoutMs = 20_000): Promise<number | null> {
    const child = this.child!;
    if (child.exitCode !== null) return Promise.resolve(child.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent ${this.name} still running:\n${this.output}`)), timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 5000);
  }
}

/**
 * A portal as its own process, started the way `npm start` starts it: for what cannot happen inside Jest (PGlite)
 * or must happen to a whole process (being killed). `env` is its whole environment besides PATH and HOME.
 */
export class PortalProcess {
  private child?: ChildProcess;
  output = '';
  portal!: Portal;

  constructor(private readonly env: Record<string, string>) {}

  async start(timeoutMs = 150_000): Promise<this> {
    const port = await freePort();
    this.child = spawn(process.execPath, ['-r', join(ROOT, 'scripts/register.js'), join(ROOT, 'portal/api/src/main.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        BATON_LOG_LEVEL: 'warn',
        BATON_WEB_DIR: '/nonexistent',
        ...this.env,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes('listening on')) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`portal did not start:\n${this.output}`);
      await sleep(100);
    }
    this.portal = new Portal(undefined as never, `http://127.0.0.1:${port}`);
    await this.portal.login('admin', this.env.BATON_ADMIN_PASSWORD ?? ADMIN_PASSWORD);
    return this;
  }

  /** Kills the process at once: no shutdown hooks, as in a crash. */
  async kill(): Promise<void> {
    await this.stop('SIGKILL');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stopChild(this.child, 10_000, signal);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
