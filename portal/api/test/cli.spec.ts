/**
 * The `baton` CLI end to end, as users run it: the bundled file (`npm run build:cli`) against a real portal process.
 * Login with the password typed at a terminal (a pty, through `script`) or piped, an API token from the
 * environment, `run --follow` exit codes for each outcome on the local node, Ctrl-C, `logs -f`, JSON output,
 * errors that say what to do, and `lint` on broken trees with exact locations.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, createTestEnv, destroyTestEnv, freePort, portalEnv, PortalProcess, sleep, type TestEnv } from './harness';

const ROOT = join(__dirname, '..', '..', '..');
const BATON = join(ROOT, 'dist', 'cli', 'baton');

jest.setTimeout(120_000);

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end with this environment (PATH only besides) and optional stdin. */
function baton(args: string[], env: Record<string, string>, input?: string): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(BATON, args, { env: { PATH: process.env.PATH!, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(input);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the baton CLI', () => {
  let env: TestEnv;
  let portalProcess: PortalProcess;
  let url: string;
  let home: string;
  let token: string;
  const asUser = () => ({ HOME: home });
  const withToken = () => ({ HOME: mkdtempSync(join(tmpdir(), 'baton-nohome-')), BATON_URL: url, BATON_TOKEN: token });

  beforeAll(async () => {
    const build = spawnSync(process.execPath, [join(ROOT, 'cli', 'build.js')], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build:cli failed:\n${build.stdout}${build.stderr}`);
    env = await createTestEnv(join(__dirname, 'runbooks-cli'));
    // A queue of one: the third run of a runbook that runs one at a time is refused with 429.
    portalProcess = await new PortalProcess(portalEnv(env, { BATON_QUEUE_LIMIT: '1' })).start();
    url = portalProcess.portal.url;
    home = mkdtempSync(join(tmpdir(), 'baton-home-'));
    const created = await portalProcess.portal.request('POST', '/api/v1/auth/tokens', { name: 'cli-test' });
    token = created.body.token;
  });

  afterAll(async () => {
    await portalProcess?.stop();
    if (env) await destroyTestEnv(env);
    rmSync(home, { recursive: true, force: true });
  });

  describe('login', () => {
    it('asks for the password at a terminal without echoing it, and stores a session only its owner can read', async () => {
      // `script` gives the CLI a pseudo-terminal; what the test writes is what a person types.
      const command = `${BATON} login --url ${url} --user admin`;
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        env: { PATH: process.env.PATH!, HOME: home },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let screen = '';
      child.stdout.on('data', (d) => (screen += d));
      while (!screen.includes('password for admin')) await sleep(20);
      child.stdin.write(`${ADMIN_PASSWORD}\r`);
      const code = await new Promise((resolve) => child.on('close', resolve));

      expect(code).toBe(0);
      expect(screen).toContain(`logged in to ${url} as admin`);
      expect(screen).not.toContain(ADMIN_PASSWORD);
      const config = join(home, '.config', 'baton', 'config.json');
      expect(statSync(config).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(config, 'utf8'))).toMatchObject({ url, user: 'admin', refreshToken: expect.any(String) });
      expect(await baton(['whoami'], asUser())).toMatchObject({ code: 0, stdout: `admin at ${url}\n` });
    });

    it('reads the password from stdin in scripts, and refuses a wrong one with exit code 7', async () => {
      const otherHome = mkdtempSync(join(tmpdir(), 'baton-home-'));
      expect(await baton(['login', '--url', url, '--user', 'admin'], { HOME: otherHome }, `${ADMIN_PASSWORD}\n`)).toMatchObject({
        code: 0,
      });
      const wrong = await baton(['login', '--url', url, '--user', 'admin'], { HOME: otherHome }, 'not-the-password\n');
      expect(wrong).toMatchObject({ code: 7, stderr: `baton: login refused: wrong user name or password for admin at ${url}\n` });
    });

    it('refreshes an expired session silently, and says to log in again when the refresh is refused', async () => {
      const ownHome = mkdtempSync(join(tmpdir(), 'baton-home-'));
      expect(await baton(['login', '--url', url, '--user', 'admin'], { HOME: ownHome }, `${ADMIN_PASSWORD}\n`)).toMatchObject({ code: 0 });
      const config = join(ownHome, '.config', 'baton', 'config.json');
      const session = JSON.parse(readFileSync(config, 'utf8'));
      writeFileSync(config, JSON.stringify({ ...session, accessExpiresAt: Date.now() - 1000 }));
      expect(await baton(['whoami'], { HOME: ownHome })).toMatchObject({ code: 0, stdout: `admin at ${url}\n` });
      const refreshed = JSON.parse(readFileSync(config, 'utf8'));
      expect(refreshed.refreshToken).not.toBe(session.refreshToken);
      expect(refreshed.accessExpiresAt).toBeGreaterThan(Date.now());

      const otherHome = mkdtempSync(join(tmpdir(), 'baton-home-'));
      mkdirSync(join(otherHome, '.config', 'baton'), { recursive: true });
      const stale = { ...session, accessToken: 'x', accessExpiresAt: 0, refreshToken: 'used-up' };
      writeFileSync(join(otherHome, '.config', 'baton', 'config.json'), JSON.stringify(stale));
      const expired = await baton(['whoami'], { HOME: otherHome });
      expect(expired).toMatchObject({ code: 7, stderr: `baton: session expired: run \`baton login --url ${url} --user admin\`\n` });
    });

    it('says what to do when there is no session and no token', async () => {
      const res = await baton(['runbooks', 'ls'], { HOME: mkdtempSync(join(tmpdir(), 'baton-nohome-')) });
      expect(res).toMatchObject({
        code: 7,
        stderr: 'baton: not logged in: run `baton login --url URL --user NAME`, or set BATON_URL and BATON_TOKEN\n',
      });
    });
  });

  describe('with an API token from the environment', () => {
    it('lists runbooks and nodes as JSON for programs', async () => {
      const runbooks = await baton(['runbooks', 'ls', '--output', 'json'], withToken());
      expect(runbooks.code).toBe(0);
      expect(JSON.parse(runbooks.stdout).map((r: { id: string }) => r.id)).toEqual([
        'cli.count',
        'cli.exclusive',
        'cli.fail',
        'cli.guarded',
        'cli.hello',
        'cli.single',
        'cli.sleep',
        'cli.slow',
      ]);
      const nodes = JSON.parse((await baton(['nodes', 'ls', '-o', 'json'], withToken())).stdout);
      expect(nodes).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'local', status: 'online' })]));
      expect((await baton(['whoami'], withToken())).stdout).toBe(`admin at ${url} (API token)\n`);
    });

    it('prints tables for people', async () => {
      const res = await baton(['runbooks', 'ls'], withToken());
      expect(res.stdout.split('\n')[0]).toMatch(/^ID\s+TITLE\s+PARAMS\s+TARGETS$/);
      expect(res.stdout).toMatch(/cli\.hello\s+Greets\s+who\s+local/);
      expect(res.stdout).not.toContain('\x1b['); // no colours in a pipe
    });

    it('refuses a revoked or made-up token with exit code 7', async () => {
      const res = await baton(['runbooks', 'ls'], {
        ...withToken(),
        BATON_TOKEN: 'bt_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      });
      expect(res.code).toBe(7);
      expect(res.stderr).toMatch(/^baton: the portal refused BATON_TOKEN \(401 .*\): create a new API token\n$/);
    });

    it('says when the portal cannot be reached, with exit code 8', async () => {
      const nobody = `http://127.0.0.1:${await freePort()}`;
      const res = await baton(['runbooks', 'ls'], { ...withToken(), BATON_URL: nobody });
      expect(res.code).toBe(8);
      expect(res.stderr).toContain(`cannot reach the portal at ${nobody} (ECONNREFUSED): is it running?`);
    });
  });

  describe('audit, jobs and pools', () => {
    it('verifies the audit chain and exports the log as CSV or JSON lines', async () => {
      const verified = await baton(['audit', 'verify'], withToken());
      expect(verified.code).toBe(0);
      expect(verified.stdout).toMatch(/^intact: \d+ events checked; last seq \d+, hash [0-9a-f]{64}\n$/);
      const csv = await baton(['audit', 'export', '--format', 'csv', '--since', '1h'], withToken());
      expect(csv.code).toBe(0);
      expect(csv.stdout.split('\r\n')[0]).toBe('seq,at,actor_type,actor,action,target,details,source,prev_hash,hash');
      const jsonl = await baton(['audit', 'export', '--action', 'token.*'], withToken());
      const events = jsonl.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(events).toEqual([expect.objectContaining({ action: 'token.create', actor: 'admin' })]);
      const badSince = await baton(['audit', 'export', '--since', 'yesterday'], withToken());
      expect(badSince.code).toBe(2);
      expect(badSince.stderr).toContain('--since must be an ISO 8601 time');
    });

    it('lists jobs and pools (none here), and refuses an unknown pool with exit code 2', async () => {
      expect(await baton(['jobs', 'ls', '-o', 'json'], withToken())).toMatchObject({ code: 0, stdout: '[]\n' });
      expect(await baton(['pools', 'ls'], withToken())).toMatchObject({ code: 0, stdout: 'no pools\n' });
      const scale = await baton(['pools', 'scale', 'web.nope', '--by', '2', '--reason', 'test'], withToken());
      expect(scale.code).toBe(2);
      expect(scale.stderr).toContain('web.nope');
      expect((await baton(['pools', 'scale', 'web.nope', '--reason', 'test'], withToken())).stderr).toBe(
        'baton: give exactly one of --to or --by\n',
      );
    });
  });

  describe('run --follow', () => {
    it('streams the log and exits 0 when the execution succeeds', async () => {
      const res = await baton(['run', 'cli.hello', '-p', 'who=baton', '--follow'], withToken());
      expect(res.code).toBe(0);
      expect(res.stdout).toBe('[local/say] hello baton\n');
      expect(res.stderr).toContain('[local/say] to stderr\n');
      expect(res.stderr).toMatch(/execution [0-9a-f-]{36} succeeded/);
    });

    it('exits 1 when it fails, 3 when it times out', async () => {
      const failed = await baton(['run', 'cli.fail', '--follow'], withToken());
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain('[local/break] about to fail');
      expect(failed.stderr).toMatch(/execution [0-9a-f-]{36} failed/);
      const timedOut = await baton(['run', 'cli.slow', '--wait'], withToken());
      expect(timedOut.code).toBe(3);
      expect(timedOut.stdout).toMatch(/status:\s+timed_out/);
    });

    it('asks on Ctrl-C whether to cancel: yes cancels the run (exit 4), no leaves it running (exit 130)', async () => {
      const interrupt = async (answer: string) => {
        const child = spawn(BATON, ['run', 'cli.sleep', '--follow'], {
          env: { PATH: process.env.PATH!, ...withToken() },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        while (!stdout.includes('napping')) await sleep(20);
        child.kill('SIGINT');
        while (!stderr.includes('cancel execution')) await sleep(20);
        child.stdin.write(`${answer}\n`);
        const code = await new Promise((resolve) => child.on('close', resolve));
        const id = /started execution ([0-9a-f-]{36})/.exec(stderr)![1];
        return { code, stderr, id };
      };
      const cancelled = await interrupt('y');
      expect(cancelled.code).toBe(4);
      expect(cancelled.stderr).toMatch(/execution [0-9a-f-]{36} cancelled/);

      const detached = await interrupt('n');
      expect(detached.code).toBe(130);
      expect(detached.stderr).toContain(`the execution goes on: baton executions logs -f ${detached.id}`);
      expect((await portalProcess.portal.request('GET', `/api/v1/executions/${detached.id}`)).body.status).toBe('running');
      expect(await baton(['executions', 'cancel', detached.id], withToken())).toMatchObject({ code: 0 });
    });

    it('refuses an unknown runbook or a bad parameter with the API message and exit code 2', async () => {
      const unknown = await baton(['run', 'cli.nope', '--follow'], withToken());
      expect(unknown).toMatchObject({ code: 2, stderr: 'baton: runbook "cli.nope" not found (404)\n' });
      const badParam = await baton(['run', 'cli.hello', '-p', 'who=NOT LOWER', '-p', 'what=x'], withToken());
      expect(badParam.code).toBe(2);
      expect(badParam.stderr).toMatch(/^baton: .*who.*\(400\)\n$/);
      expect(badParam.stderr).toContain('what');
      const usage = await baton(['run', 'cli.hello', '-p', 'novalue'], withToken());
      expect(usage).toMatchObject({ code: 2, stderr: 'baton: --param must be key=value (got "novalue")\n' });
    });

    it('reports a full queue (429) and a refused concurrent run (409) clearly, with exit code 6', async () => {
      const cancel = async (id: string) => {
        expect(await baton(['executions', 'cancel', id], withToken())).toMatchObject({ code: 0 });
        await portalProcess.portal.waitForEnd(id);
      };
      const running = (await baton(['run', 'cli.single'], withToken())).stdout.trim();
      const queued = (await baton(['run', 'cli.single'], withToken())).stdout.trim();
      const refused = await baton(['run', 'cli.single', '--follow'], withToken());
      expect(refused.code).toBe(6);
      expect(refused.stderr).toMatch(
        /^baton: the portal is busy \(429 Too Many Requests\): 1 executions are waiting to start .*retry in \d+ s\n$/,
      );
      await cancel(queued);
      await cancel(running);

      const exclusive = (await baton(['run', 'cli.exclusive'], withToken())).stdout.trim();
      const conflict = await baton(['run', 'cli.exclusive'], withToken());
      expect(conflict.code).toBe(6);
      expect(conflict.stderr).toMatch(/^baton: conflict \(409\): .*already queued or running/);
      await cancel(exclusive);
    });

    it('prints only the execution id without --follow, for scripts', async () => {
      const res = await baton(['run', 'cli.hello'], withToken());
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
      await portalProcess.portal.waitForEnd(res.stdout.trim());
    });
  });

  describe('approvals', () => {
    it('stops following a run that waits for approval (exit 5); approving it lets it run (exit 0)', async () => {
      const waiting = await baton(['run', 'cli.guarded', '--follow'], withToken());
      expect(waiting.code).toBe(5);
      const id = /started execution ([0-9a-f-]{36})/.exec(waiting.stderr)![1];
      expect(waiting.stderr).toContain(`is waiting for approval: decide with baton approvals approve|reject ${id}`);
      const pending = JSON.parse((await baton(['approvals', 'ls', '-o', 'json'], withToken())).stdout);
      expect(pending).toEqual([expect.objectContaining({ id, runbook: 'cli.guarded', actor: 'admin' })]);

      const following = baton(['executions', 'logs', '-f', '--wait-approval', id], withToken());
      expect(await baton(['approvals', 'approve', id, '-m', 'looks fine'], withToken())).toMatchObject({
        code: 0,
        stdout: `approved ${id} (1 of 1 approvals: it starts)\n`,
      });
      const followed = await following;
      expect(followed.code).toBe(0);
      expect(followed.stdout).toBe('[local/act] approved and running\n');
    });

    it('ends a rejected run with exit code 5, and wants a reason to reject', async () => {
      const id = (await baton(['run', 'cli.guarded'], withToken())).stdout.trim();
      const noReason = await baton(['approvals', 'reject', id], withToken());
      expect(noReason.code).toBe(2);
      expect(noReason.stderr).toContain("required option '-m, --comment <text>' not specified");
      expect(await baton(['approvals', 'reject', id, '-m', 'not today'], withToken())).toMatchObject({
        code: 0,
        stdout: `rejected ${id}\n`,
      });
      const followed = await baton(['executions', 'logs', '-f', id], withToken());
      expect(followed.code).toBe(5);
      expect(followed.stderr).toMatch(/rejected.*rejected by admin: not today/);
    });
  });

  describe('executions', () => {
    it('follows a running execution with logs -f and exits with its outcome', async () => {
      const id = await portalProcess.portal.run('cli.count', {});
      const res = await baton(['executions', 'logs', '-f', id], withToken());
      expect(res.code).toBe(0);
      expect(res.stdout).toBe([1, 2, 3, 4, 5].map((i) => `[local/count] line ${i}\n`).join(''));
      expect((await baton(['executions', 'logs', id], withToken())).stdout).toBe([1, 2, 3, 4, 5].map((i) => `line ${i}\n`).join(''));
    });

    it('shows executions as JSON that parses, and lists them', async () => {
      const id = await portalProcess.portal.run('cli.hello', { params: { who: 'json' } });
      await portalProcess.portal.waitForEnd(id);
      const shown = JSON.parse((await baton(['executions', 'show', id, '-o', 'json'], withToken())).stdout);
      expect(shown).toMatchObject({ id, status: 'succeeded', runbook: 'cli.hello', params: { who: 'json' } });
      expect(shown.nodes[0]).toMatchObject({
        node: 'local',
        status: 'succeeded',
        steps: [expect.objectContaining({ id: 'say', exitCode: 0 })],
      });
      const listed = JSON.parse((await baton(['executions', 'ls', '--runbook', 'cli.hello', '-o', 'json'], withToken())).stdout);
      expect(listed.map((e: { id: string }) => e.id)).toContain(id);
    });

    it('runs an execution again with its parameters, linked to it, and says why one cannot be', async () => {
      const first = await portalProcess.portal.run('cli.hello', { params: { who: 'again' } });
      await portalProcess.portal.waitForEnd(first);
      const res = await baton(['executions', 'rerun', first, '--follow'], withToken());
      expect(res.code).toBe(0);
      expect(res.stdout).toBe('[local/say] hello again\n');
      const second = /started execution ([0-9a-f-]{36})/.exec(res.stderr)![1];
      const shown = JSON.parse((await baton(['executions', 'show', second, '-o', 'json'], withToken())).stdout);
      expect(shown).toMatchObject({ rerunOf: first, params: { who: 'again' }, status: 'succeeded' });

      const nothingFailed = await baton(['executions', 'rerun', first, '--failed-nodes'], withToken());
      expect(nothingFailed.code).toBe(2);
      expect(nothingFailed.stderr).toMatch(/^baton: .+\n$/);
    });

    it('streams JSON lines with --follow --output json, ending with the execution', async () => {
      const res = await baton(['run', 'cli.hello', '-f', '-o', 'json'], withToken());
      expect(res.code).toBe(0);
      const lines = res.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines).toHaveLength(3);
      expect(lines.slice(0, 2)).toEqual(
        expect.arrayContaining([
          { node: 'local', step: 'say', stream: 'stdout', data: 'hello world\n' },
          { node: 'local', step: 'say', stream: 'stderr', data: 'to stderr\n' },
        ]),
      );
      expect(lines[2]).toMatchObject({ status: 'succeeded', runbook: 'cli.hello', params: { who: 'world' } });
    });
  });

  describe('lint', () => {
    it('prints every problem of a broken tree as file:line:col: message and exits 1, without a portal', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'baton-lint-'));
      mkdirSync(join(dir, 'ops'));
      writeFileSync(join(dir, 'ops', 'good.yaml'), readFileSync(join(__dirname, 'runbooks-cli', 'cli.yaml'), 'utf8'));
      writeFileSync(
        join(dir, 'ops', 'cycle.yaml'),
        [
          'apiVersion: baton/v1',
          'kind: Runbook',
          'id: ops.cycle',
          'title: Cycle',
          'steps:',
          '  - id: a',
          '    needs: [b]',
          '    run: echo a',
          '  - id: b',
          '    needs: [a]',
          '    run: echo b',
          '',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'typo.yaml'), ['apiVersion: baton/v1', 'kind: Runbok', 'id: ops.typo', ''].join('\n'));
      const res = await baton(['lint', dir], { HOME: home });
      expect(res.code).toBe(1);
      const lines = res.stdout.split('\n').filter(Boolean);
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe(`${join(dir, 'ops', 'cycle.yaml')}:7:12: steps[0].needs: cycle in needs: a -> b -> a`);
      expect(lines[1].startsWith(`${join(dir, 'typo.yaml')}:2:7: kind: unknown kind "Runbok"; known kinds: Runbook, `)).toBe(true);
      expect(res.stderr).toContain('3 files, 8 resources: 2 problems');

      rmSync(join(dir, 'ops', 'cycle.yaml'));
      rmSync(join(dir, 'typo.yaml'));
      expect(await baton(['lint', dir], { HOME: home })).toMatchObject({ code: 0, stdout: '' });
      rmSync(dir, { recursive: true, force: true });
    });
  });

  it('gives the same answer for a large tree split over worker threads as in one thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-lint-many-'));
    const good = readFileSync(join(__dirname, 'runbooks-cli', 'cli.yaml'), 'utf8');
    // 160 files: enough for three workers (a worker takes at least 50 files).
    for (let i = 0; i < 160; i++) {
      const text = good.replace(/^id: cli\./gm, `id: t${i}.`);
      writeFileSync(join(dir, `f${String(i).padStart(3, '0')}.yaml`), i % 20 === 7 ? text.replace('timeout: 1s', 'timeout: later') : text);
    }
    const threads = await baton(['lint', '--jobs', '3', dir], { HOME: home });
    const single = await baton(['lint', '--jobs', '1', dir], { HOME: home });
    expect(threads.code).toBe(1);
    expect(threads.stdout).toBe(single.stdout);
    expect(threads.stdout.split('\n').filter(Boolean)).toEqual(
      ['007', '027', '047', '067', '087', '107', '127', '147'].map(
        (i) => `${join(dir, `f${i}.yaml`)}:27:10: timeout: must be a duration such as 500ms, 30s, 15m, 2h (got "later")`,
      ),
    );
    expect(threads.stderr).toContain('160 files, 1272 resources: 8 problems');
    rmSync(dir, { recursive: true, force: true });
  });

  describe('help and completion', () => {
    it('shows examples in --help, and prints completion scripts', async () => {
      expect((await baton(['run', '--help'], { HOME: home })).stdout).toContain('Examples:\n  $ baton run demo.hello --follow');
      expect((await baton(['completion', 'bash'], { HOME: home })).stdout).toContain('complete -o default -F _baton_complete baton');
      expect((await baton(['completion', 'zsh'], { HOME: home })).stdout).toContain('compdef _baton baton');
      expect((await baton(['completion', 'fish'], { HOME: home })).code).toBe(2);
    });
  });
});
