/**
 * Real receivers for notifications, started by the tests that need them: an HTTP server that answers as told (a
 * status, or never: it hangs) and records every request, and an SMTP server (smtp-server) with STARTTLS and a login
 * that records every message it accepts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { sleep } from './harness';

export type Answer = number | 'hang';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  answer: Answer;
}

export class HttpReceiver {
  readonly received: ReceivedRequest[] = [];
  url = '';
  private server?: Server;
  private readonly planned = new Map<string, Answer[]>();
  private readonly hanging: ServerResponse[] = [];

  /** The answers to the next requests on `path`, in order; after them every request gets 200. */
  answer(path: string, ...answers: Answer[]): this {
    this.planned.set(path, [...(this.planned.get(path) ?? []), ...answers]);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        const answer = this.planned.get(path)?.shift() ?? 200;
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answer });
        if (answer === 'hang') this.hanging.push(res);
        else res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : `receiver says ${answer}`);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Requests received on one path (each notifier of a test posts to its own path). */
  on(path: string): ReceivedRequest[] {
    return this.received.filter((r) => r.path === path);
  }

  async waitFor(path: string, count: number, timeoutMs = 20_000): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.on(path).length < count) {
      if (Date.now() > deadline) throw new Error(`${path}: ${this.on(path).length} of ${count} requests after ${timeoutMs} ms`);
      await sleep(50);
    }
    return this.on(path);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface ReceivedMail {
  from: string;
  to: string[];
  /** Whether the message came over a connection upgraded with STARTTLS. */
  isSecure: boolean;
  user: string | undefined;
  raw: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl for this test run. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'baton-smtp-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'],
        ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class SmtpReceiver {
  readonly received: ReceivedMail[] = [];
  port = 0;
  private server?: SMTPServer;

  constructor(
    private readonly tls: { key: string; cert: string },
    private readonly login: { user: string; password: string },
    /** Refuse STARTTLS, as a server (or a man in the middle) that would have the client send in clear. */
    private readonly isStartTlsRefused = false,
  ) {}

  async start(): Promise<this> {
    this.server = new SMTPServer({
      key: this.tls.key,
      cert: this.tls.cert,
      disabledCommands: this.isStartTlsRefused ? ['STARTTLS'] : [],
      allowInsecureAuth: false,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth: (auth, _session, callback) => {
        if (auth.username === this.login.user && auth.password === this.login.password) callback(null, { user: auth.username });
        else callback(new Error('invalid login'));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            isSecure: session.secure,
            user: session.user as string | undefined,
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = ((this.server as unknown as { server: Server }).server.address() as AddressInfo).port;
    return this;
  }

  async waitFor(count: number, timeoutMs = 20_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`${this.received.length} of ${count} mails after ${timeoutMs} ms`);
      await sleep(50);
    }
    return this.received;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A mail as text: header lines unfolded, quoted-printable soft line breaks and escapes undone, so assertions read it. */
export function mailText(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const header = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw
    .slice(split)
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return header + body;
}
