/**
 * Installing an agent from a real portal: the one-file agent with its checksum, the 404 before it is built, and the
 * install script (valid sh, the right portal address, its refusals, and a dry run into a temporary root that fetches
 * the binary from the portal and writes the unit and agent.env, without systemd).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Portal, TestEnv, createTestEnv, destroyTestEnv, startPortal } from './harness';

jest.setTimeout(60_000);

const ROOT = join(__dirname, '..', '..', '..');
const UNIT = readFileSync(join(ROOT, 'deploy', 'systemd', 'baton-agent.service'), 'utf8');

let env: TestEnv;
let workDir: string;

beforeAll(async () => {
  env = await createTestEnv();
  workDir = mkdtempSync(join(tmpdir(), 'baton-install-'));
});

afterAll(async () => {
  rmSync(workDir, { recursive: true, force: true });
  await destroyTestEnv(env);
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Runs a script as `curl ... | sh -s -- args` does. Asynchronous: the portal it downloads from runs in this process. */
function runScript(
  script: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-s', '--', ...args], { env: { PATH: process.env.PATH, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(script);
  });
}

/** A GET with a Host header of our choosing (fetch sends the real one). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a portal with a built agent', () => {
  let portal: Portal;
  let binaryFile: string;
  let binary: Buffer;

  beforeAll(async () => {
    binaryFile = join(workDir, 'baton-agent');
    binary = randomBytes(1024 * 1024 + 17);
    writeFileSync(binaryFile, binary);
    portal = await startPortal(env, { BATON_AGENT_BINARY: binaryFile });
  });

  afterAll(async () => {
    await portal?.close();
  });

  it('serves the agent binary to anyone, with its SHA-256', async () => {
    const res = await fetch(`${portal.url}/install/baton-agent`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('x-checksum-sha256')).toBe(sha256(binary));
    expect(Buffer.from(await res.arrayBuffer()).equals(binary)).toBe(true);
  });

  it('serves a rebuilt binary with its new checksum', async () => {
    const rebuilt = randomBytes(4096);
    writeFileSync(binaryFile, rebuilt);
    try {
      const res = await fetch(`${portal.url}/install/baton-agent`);
      expect(res.headers.get('x-checksum-sha256')).toBe(sha256(rebuilt));
      expect(Buffer.from(await res.arrayBuffer()).equals(rebuilt)).toBe(true);
    } finally {
      writeFileSync(binaryFile, binary);
    }
  });

  it('serves an install script in valid sh that downloads from the address the request came to', async () => {
    const res = await fetch(`${portal.url}/install/agent.sh`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/x-shellscript/);
    const script = await res.text();
    expect(script).toContain(`PORTAL_URL='${portal.url}'`);
    expect(script).toContain(`AGENT_SHA256='${sha256(binary)}'`);
    const syntax = await new Promise<number | null>((resolve) => {
      const child = spawn('sh', ['-n'], { stdio: ['pipe', 'ignore', 'inherit'] });
      child.on('close', resolve);
      child.stdin.end(script);
    });
    expect(syntax).toBe(0);
  });

  it('refuses to put a Host header that is not a plain host[:port] into a script', async () => {
    const res = await getWithHost(`${portal.url}/install/agent.sh`, "evil.example';reboot;'");
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(body.message).toContain('set BATON_PUBLIC_URL');
  });

  it('prints its usage with --help and refuses to run without a token', async () => {
    const script = await (await fetch(`${portal.url}/install/agent.sh`)).text();
    const help = await runScript(script, ['--help']);
    expect(help.code).toBe(0);
    expect(help.output).toContain(`Usage: curl -fsSL ${portal.url}/install/agent.sh | sudo sh -s -- --token TOKEN`);
    const noToken = await runScript(script, ['--name', 'web-7']);
    expect(noToken.code).not.toBe(0);
    expect(noToken.output).toContain('an enrollment token is required');
  });

  it('installs the agent, its unit and its settings into BATON_INSTALL_ROOT', async () => {
    const root = mkdtempSync(join(workDir, 'root-'));
    const script = await (await fetch(`${portal.url}/install/agent.sh`)).text();
    const result = await runScript(script, ['--token', 'enroll-tok.123', '--name', 'web-7', '--labels', 'role=web,env=prod'], {
      BATON_INSTALL_ROOT: root,
    });
    expect(result).toMatchObject({ code: 0 });
    const installed = join(root, 'usr/local/bin/baton-agent');
    expect(readFileSync(installed).equals(binary)).toBe(true);
    expect(statSync(installed).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(root, 'etc/systemd/system/baton-agent.service'), 'utf8')).toBe(UNIT);
    const envFile = join(root, 'etc/baton/agent.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, 'utf8').split('\n')).toEqual(
      expect.arrayContaining([
        `BATON_PORTAL_URL=${portal.url}`,
        'BATON_AGENT_NAME=web-7',
        'BATON_AGENT_LABELS=role=web,env=prod',
        'BATON_ENROLL_TOKEN=enroll-tok.123',
      ]),
    );
  });

  it('refuses a download that is not the binary the script was written for', async () => {
    const root = mkdtempSync(join(workDir, 'root-'));
    const script = await (await fetch(`${portal.url}/install/agent.sh`)).text();
    writeFileSync(binaryFile, randomBytes(2048));
    try {
      const result = await runScript(script, ['--token', 'tok'], { BATON_INSTALL_ROOT: root });
      expect(result.code).toBe(1);
      expect(result.output).toContain(`not ${sha256(binary)}`);
      expect(() => statSync(join(root, 'usr/local/bin/baton-agent'))).toThrow();
    } finally {
      writeFileSync(binaryFile, binary);
    }
  });
});

describe('a portal with BATON_PUBLIC_URL', () => {
  let portal: Portal;

  beforeAll(async () => {
    const binaryFile = join(workDir, 'public-url-agent');
    writeFileSync(binaryFile, randomBytes(1024));
    portal = await startPortal(env, { BATON_AGENT_BINARY: binaryFile, BATON_PUBLIC_URL: 'https://baton.example.com:8443/' });
  });

  afterAll(async () => {
    await portal?.close();
  });

  it('writes that address into the script, whatever the Host header says', async () => {
    const res = await getWithHost(`${portal.url}/install/agent.sh`, 'evil.example');
    expect(res.status).toBe(200);
    expect(res.body).toContain("PORTAL_URL='https://baton.example.com:8443'");
    expect(res.body).not.toContain('evil.example');
  });
});

describe('a portal whose agent is not built', () => {
  let portal: Portal;

  beforeAll(async () => {
    portal = await startPortal(env, { BATON_AGENT_BINARY: join(workDir, 'no-such-dir', 'baton-agent') });
  });

  afterAll(async () => {
    await portal?.close();
  });

  it.each(['/install/baton-agent', '/install/agent.sh'])('answers %s with 404 and what to do', async (path) => {
    const res = await fetch(`${portal.url}${path}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'the agent binary is not built: run npm run build:agent',
    });
  });
});
