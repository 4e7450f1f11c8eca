/**
 * Opening SSH connections with ssh2: pinned host keys (or trust on first use), jump hosts, connect and
 * authentication time-outs, and failures turned into reasons a person understands. No Nest, no database: the
 * caller says what to connect to and hears back which key it saw.
 */
import { createHash } from 'node:crypto';
import { Client, type ConnectConfig } from 'ssh2';
import type { Duplex } from 'node:stream';

export interface SshEndpoint {
  name: string;
  host: string;
  port: number;
  user: string;
  privateKey?: string;
  password?: string;
  /** The fingerprint to insist on (`SHA256:...`), or undefined to accept the first key seen (trust on first use). */
  expectedHostKey?: string;
}

export interface SshConnection {
  client: Client;
  /** Fingerprint of the host key the target presented. */
  hostKey: string;
  /** Closes the connection and every jump host connection under it. */
  close(): void;
}

export type SshFailureKind = 'hostkey' | 'auth' | 'refused' | 'dns' | 'timeout' | 'other';

/** Why a connection could not be made; `reason` is written for the person reading the node run. */
export class SshConnectError extends Error {
  constructor(
    readonly kind: SshFailureKind,
    readonly reason: string,
    readonly node: string,
    readonly hostKey?: { expected: string; seen: string },
  ) {
    super(reason);
  }
}

/** `SHA256:` + unpadded base64 of the SHA-256 of the key blob: what `ssh-keygen -lf` prints. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Connects to `target`, through `via` (jump hosts, outermost first) when given. Each hop is verified and
 * authenticated on its own; the whole attempt is bounded by `timeoutMs` per hop. With `jumps`, the connection to
 * the jump hosts is shared with every other node run going through the same ones.
 */
export async function connectSsh(
  target: SshEndpoint,
  via: SshEndpoint[],
  timeoutMs: number,
  jumps?: JumpConnections,
): Promise<SshConnection> {
  if (via.length > 0 && jumps) {
    const jump = await jumps.acquire(via, timeoutMs);
    try {
      const last = await connectOne(target, await forward(jump.connection, target, timeoutMs), timeoutMs);
      const close = () => {
        last.client.end();
        jump.release();
      };
      return { client: last.client, hostKey: last.hostKey, close };
    } catch (err) {
      jump.release();
      throw err;
    }
  }
  const opened: SshConnection[] = [];
  const closeAll = () => opened.reverse().forEach((c) => c.client.end());
  try {
    let sock: Duplex | undefined;
    for (const hop of [...via, target]) {
      if (opened.length > 0) sock = await forward(opened.at(-1)!, hop, timeoutMs);
      opened.push(await connectOne(hop, sock, timeoutMs));
    }
  } catch (err) {
    closeAll();
    throw err;
  }
  const last = opened.at(-1)!;
  return { client: last.client, hostKey: last.hostKey, close: closeAll };
}

/** How long an unused jump host connection stays open for the next node run (a fan-out starts them in waves). */
const JUMP_IDLE_MS = 5000;

/**
 * Connections to jump hosts, one per chain of jump hosts (and credentials), shared by the node runs going through
 * it: a fan-out to 50 nodes behind one bastion makes one connection to the bastion, not 50. Counted by users;
 * closed after JUMP_IDLE_MS without one, and forgotten as soon as it fails, so the next node run connects anew.
 */
export class JumpConnections {
  private readonly shared = new Map<string, { connection: Promise<SshConnection>; users: number; idle?: NodeJS.Timeout }>();

  async acquire(via: SshEndpoint[], timeoutMs: number): Promise<{ connection: SshConnection; release(): void }> {
    const key = chainKey(via);
    let entry = this.shared.get(key);
    if (!entry) {
      const connection = connectSsh(via.at(-1)!, via.slice(0, -1), timeoutMs);
      const created = { connection, users: 0 };
      entry = created;
      this.shared.set(key, created);
      const forget = () => this.shared.get(key) === created && this.shared.delete(key);
      connection.then((c) => c.client.once('close', forget), forget);
    }
    entry.users++;
    clearTimeout(entry.idle);
    const used = entry;
    let connection: SshConnection;
    try {
      connection = await used.connection;
    } catch (err) {
      used.users--;
      throw err;
    }
    let isReleased = false;
    return {
      connection,
      release: () => {
        if (isReleased) return;
        isReleased = true;
        if (--used.users > 0) return;
        used.idle = setTimeout(() => {
          if (this.shared.get(key) === used) this.shared.delete(key);
          connection.close();
        }, JUMP_IDLE_MS).unref();
      },
    };
  }

  /** Connections currently open or opening (for tests and metrics). */
  get size(): number {
    return this.shared.size;
  }

  closeAll(): void {
    for (const entry of this.shared.values()) {
      clearTimeout(entry.idle);
      void entry.connection.then((c) => c.close(), () => undefined);
    }
    this.shared.clear();
  }
}

/** Which jump connection may be shared: same hops, same expected keys, same credentials. */
function chainKey(via: SshEndpoint[]): string {
  const hops = via.map((h) => [h.name, h.host, h.port, h.user, h.expectedHostKey ?? '', h.privateKey ?? '', h.password ?? '']);
  return createHash('sha256').update(JSON.stringify(hops)).digest('hex');
}

function forward(bastion: SshConnection, hop: SshEndpoint, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new SshConnectError('timeout', `jump host could not open a connection to ${where(hop)} within ${timeoutMs} ms`, hop.name)),
      timeoutMs,
    );
    bastion.client.forwardOut('127.0.0.1', 0, hop.host, hop.port, (err, stream) => {
      clearTimeout(timer);
      if (err) reject(new SshConnectError('refused', `the jump host could not reach ${where(hop)}: ${err.message}`, hop.name));
      else resolve(stream);
    });
  });
}

function connectOne(hop: SshEndpoint, sock: Duplex | undefined, timeoutMs: number): Promise<SshConnection> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let seen: string | undefined;
    let settled = false;
    const fail = (err: SshConnectError) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(err);
    };
    const config: ConnectConfig = {
      host: hop.host,
      port: hop.port,
      username: hop.user,
      privateKey: hop.privateKey,
      password: hop.password,
      sock,
      readyTimeout: timeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      // Only what we were given: no agent, no keyboard-interactive prompts that nobody can answer.
      tryKeyboard: false,
      hostVerifier: (key: Buffer) => {
        seen = fingerprintOf(key);
        return hop.expectedHostKey === undefined || hop.expectedHostKey === seen;
      },
    };
    client.on('ready', () => {
      settled = true;
      resolve({ client, hostKey: seen ?? '', close: () => client.end() });
    });
    client.on('error', (err) => fail(classify(err, hop, seen, timeoutMs)));
    client.on('close', () => fail(new SshConnectError('other', `${where(hop)} closed the connection during the handshake`, hop.name)));
    client.connect(config);
  });
}

function where(hop: SshEndpoint): string {
  return `${hop.user}@${hop.host}:${hop.port}`;
}

function classify(err: Error & { code?: string; level?: string }, hop: SshEndpoint, seen: string | undefined, timeoutMs: number) {
  const node = hop.name;
  if (hop.expectedHostKey !== undefined && seen !== undefined && seen !== hop.expectedHostKey) {
    return new SshConnectError(
      'hostkey',
      `host key of ${hop.host}:${hop.port} did not match: expected ${hop.expectedHostKey}, seen ${seen}; refused to connect ` +
        `(if the host was reinstalled, update the node's hostKey)`,
      node,
      { expected: hop.expectedHostKey, seen },
    );
  }
  if (err.level === 'client-authentication') {
    const how = [hop.privateKey ? 'key' : undefined, hop.password ? 'password' : undefined].filter(Boolean).join(' and ');
    return new SshConnectError(
      'auth',
      `authentication as "${hop.user}" on ${hop.host}:${hop.port} failed: the host refused the ${how}`,
      node,
    );
  }
  if (err.code === 'ECONNREFUSED') {
    return new SshConnectError(
      'refused',
      `connection refused by ${hop.host}:${hop.port} (is sshd running and listening on that port?)`,
      node,
    );
  }
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return new SshConnectError(
      'dns',
      `DNS lookup of "${hop.host}" failed (${err.code === 'ENOTFOUND' ? 'no such host' : 'DNS not answering'})`,
      node,
    );
  }
  if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT' || /timed out/i.test(err.message)) {
    return new SshConnectError('timeout', `no SSH handshake with ${hop.host}:${hop.port} within ${timeoutMs} ms`, node);
  }
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') {
    return new SshConnectError('refused', `${hop.host}:${hop.port} is unreachable from the portal (${err.code})`, node);
  }
  if (/private key|parse/i.test(err.message) && !err.code) {
    return new SshConnectError('auth', `the key secret of node "${node}" is not a usable private key: ${err.message}`, node);
  }
  return new SshConnectError('other', `SSH connection to ${hop.host}:${hop.port} failed: ${err.message}`, node);
}
