import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_NAME_PATTERN } from '@baton/shared';
import { elfArch, installPortalUrl, renderAgentInstallScript, shellQuote } from './install-script';

const UNIT = readFileSync(join(__dirname, '..', '..', '..', '..', 'deploy', 'systemd', 'baton-agent.service'), 'utf8');
const SHA256 = 'a'.repeat(64);

function script(portalUrl = 'https://baton.example.com'): string {
  return renderAgentInstallScript({ portalUrl, sha256: SHA256, arch: 'x86_64', unit: UNIT });
}

/** Runs the script the way `curl ... | sh -s -- args` does: the script on stdin. */
function runScript(text: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync('sh', ['-s', '--', ...args], { input: text, encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('installPortalUrl', () => {
  it('uses BATON_PUBLIC_URL when set, without a trailing slash', () => {
    expect(installPortalUrl('https://baton.example.com/', { protocol: 'http', host: 'evil.example' })).toBe('https://baton.example.com');
    expect(installPortalUrl('https://example.com:8443/baton', { protocol: 'http', host: undefined })).toBe(
      'https://example.com:8443/baton',
    );
  });

  it("uses the request's protocol and plain host[:port] otherwise", () => {
    expect(installPortalUrl(undefined, { protocol: 'http', host: '127.0.0.1:3000' })).toBe('http://127.0.0.1:3000');
    expect(installPortalUrl(undefined, { protocol: 'https', host: 'portal.internal' })).toBe('https://portal.internal');
    expect(installPortalUrl(undefined, { protocol: 'http', host: '[::1]:3000' })).toBe('http://[::1]:3000');
  });

  it.each(["a.com'$(id)'", 'a.com;reboot', 'a.com\nb', 'a.com b', 'a.com/x', 'a.com:3000:1', '-a.com', 'a..com', '', 'a.com`id`'])(
    'refuses the Host header %j',
    (host) => {
      expect(installPortalUrl(undefined, { protocol: 'http', host })).toBeUndefined();
    },
  );

  it('refuses a protocol other than http and https, and a BATON_PUBLIC_URL a script could misread', () => {
    expect(installPortalUrl(undefined, { protocol: 'ftp', host: 'a.com' })).toBeUndefined();
    expect(installPortalUrl("https://a.com/'$(id)'", { protocol: 'http', host: 'a.com' })).toBeUndefined();
    expect(installPortalUrl('https://a.com/\nx', { protocol: 'http', host: 'a.com' })).toBeUndefined();
    expect(installPortalUrl('javascript:alert(1)', { protocol: 'http', host: 'a.com' })).toBeUndefined();
  });
});

describe('shellQuote', () => {
  it.each(["it's", '$(touch /tmp/x)', '`id`', 'a b\nc', '\\', "''", ''])('makes sh read %j literally', (value) => {
    expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8' })).toBe(value);
  });
});

describe('elfArch', () => {
  it('reads the CPU of an ELF executable', () => {
    const header = Buffer.alloc(20);
    const fd = openSync(process.execPath, 'r');
    readSync(fd, header, 0, 20, 0);
    closeSync(fd);
    const expected = { x64: 'x86_64', arm64: 'aarch64' }[process.arch as string];
    expect(elfArch(header)).toBe(expected);
  });

  it('knows nothing of other files', () => {
    expect(elfArch(Buffer.from('#!/usr/bin/env node\nconsole.log(1)'))).toBeUndefined();
    expect(elfArch(Buffer.alloc(4))).toBeUndefined();
  });
});

describe('renderAgentInstallScript', () => {
  it('is valid POSIX sh', () => {
    expect(spawnSync('sh', ['-n'], { input: script(), encoding: 'utf8' }).status).toBe(0);
  });

  it('carries the portal address, the checksum and the systemd unit as it is', () => {
    const text = script('https://baton.example.com:8443');
    expect(text).toContain("PORTAL_URL='https://baton.example.com:8443'");
    expect(text).toContain(`AGENT_SHA256='${SHA256}'`);
    expect(text).toContain(UNIT);
  });

  it('refuses a unit that would end its here-document early', () => {
    expect(() => renderAgentInstallScript({ portalUrl: 'https://a.com', sha256: SHA256, unit: 'x\nBATON_AGENT_UNIT\n' })).toThrow(
      /must not contain/,
    );
  });

  it('prints its usage with --help', () => {
    const result = runScript(script(), ['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: curl -fsSL https://baton.example.com/install/agent.sh | sudo sh -s -- --token TOKEN');
  });

  it('refuses to run without an enrollment token', () => {
    const result = runScript(script(), ['--name', 'web-7']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('an enrollment token is required');
  });

  it('refuses an unknown argument and an option without its value', () => {
    expect(runScript(script(), ['--tokn', 'x']).stderr).toContain('unknown argument "--tokn"');
    expect(runScript(script(), ['--token']).stderr).toContain('--token needs a value');
  });

  it.each([
    ['--labels', "role=web'"],
    ['--labels', 'role=web\nBATON_PORTAL_URL=https://evil.example'],
    ['--token', '$(touch /tmp/pwned)'],
    ['--token', 'abc\\'],
  ])('refuses %s %j, which would not survive agent.env', (option, value) => {
    const args = option === '--token' ? [option, value] : ['--token', 'tok', option, value];
    const result = runScript(script(), args);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${option} may contain only`);
  });

  it('takes the node names the agent takes, and refuses the others before installing anything', () => {
    const names = ['web-7', 'a', 'A_b-1', 'x'.repeat(63), 'x'.repeat(64), '-web', '_a', 'web.example.com', 'web 7', 'wéb', 'web-7\nX=1'];
    // Accepted names go on to download from a closed port, into a root that is removed afterwards.
    const root = mkdtempSync(join(tmpdir(), 'baton-install-'));
    try {
      for (const name of names) {
        const result = runScript(script('http://127.0.0.1:9'), ['--token', 'tok', '--name', name], { BATON_INSTALL_ROOT: root });
        expect({ name, isRefused: result.stderr.includes('--name') }).toEqual({ name, isRefused: !NODE_NAME_PATTERN.test(name) });
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
