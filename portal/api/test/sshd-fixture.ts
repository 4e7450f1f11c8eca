/**
 * Real OpenSSH servers for tests and the benchmark: each instance listens on loopback ports with its own generated
 * host key and accepts the generated user key for root (through its own AuthorizedKeysFile), never touching the
 * machine's sshd configuration.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './processes';

export interface SshKeyPair {
  privateKey: string;
  publicKey: string;
  /** Path of the private key file (for ssh, pssh, ansible). */
  file: string;
}

/** An ed25519 key pair made by ssh-keygen in `dir`. */
export function generateKey(dir: string, name: string): SshKeyPair {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  return { privateKey: readFileSync(file, 'utf8'), publicKey: readFileSync(`${file}.pub`, 'utf8').trim(), file };
}

/** The fingerprint of a public key file as `ssh-keygen -lf` prints it. */
export function fingerprintOfFile(publicKeyFile: string): string {
  return execFileSync('ssh-keygen', ['-lf', publicKeyFile], { encoding: 'utf8' }).split(' ')[1];
}

export class SshdInstance {
  private child?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'baton-sshd-'));
  readonly hostKeyFile = join(this.dir, 'host_ed25519');
  output = '';

  constructor(
    readonly ports: number[],
    private readonly authorizedKeys: string[],
    /** Sessions per connection; sshd's own default is 10. */
    private readonly maxSessions = 100,
  ) {}

  get port(): number {
    return this.ports[0];
  }

  get user(): string {
    return userInfo().username;
  }

  /** Known once started; kept after stop. */
  hostKeyFingerprint = '';

  async start(): Promise<this> {
    mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory sshd insists on
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', this.hostKeyFile]);
    this.hostKeyFingerprint = fingerprintOfFile(`${this.hostKeyFile}.pub`);
    writeFileSync(join(this.dir, 'authorized_keys'), this.authorizedKeys.join('\n') + '\n', { mode: 0o600 });
    const config = [
      ...this.ports.map((p) => `Port ${p}`),
      'ListenAddress 127.0.0.1',
      `HostKey ${this.hostKeyFile}`,
      `PidFile ${join(this.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'UseDNS no',
      'MaxStartups 500:30:1000',
      `MaxSessions ${this.maxSessions}`,
      'AllowTcpForwarding yes',
      'LogLevel ERROR',
    ];
    const configFile = join(this.dir, 'sshd_config');
    writeFileSync(configFile, config.join('\n') + '\n');
    this.child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    for (const port of this.ports) await waitForBanner(port, () => this.output);
    return this;
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 3000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A loopback port nobody listens on right now. */
export async function freePorts(count: number): Promise<number[]> {
  const { createServer } = await import('node:net');
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import('node:net').Server>((resolve) => {
          const server = createServer();
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function waitForBanner(port: number, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('data', (d) => {
        socket.destroy();
        resolve(d.toString().startsWith('SSH-'));
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not start on port ${port}: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** sshd listens on at most 16 sockets: a fleet of `count` endpoints is spread over several instances. */
export const MAX_PORTS_PER_SSHD = 15;

export async function startSshdFleet(
  count: number,
  authorizedKeys: string[],
): Promise<{ instances: SshdInstance[]; endpoints: { port: number; hostKey: string }[] }> {
  const ports = await freePorts(count);
  const instances: SshdInstance[] = [];
  for (let i = 0; i < ports.length; i += MAX_PORTS_PER_SSHD) {
    instances.push(new SshdInstance(ports.slice(i, i + MAX_PORTS_PER_SSHD), authorizedKeys));
  }
  await Promise.all(instances.map((s) => s.start()));
  const endpoints = instances.flatMap((s) => s.ports.map((port) => ({ port, hostKey: s.hostKeyFingerprint })));
  return { instances, endpoints };
}
