/**
 * Hot reload of RUNBOOKS_DIR on a real portal, database and file system: a new file becomes a runbook and a
 * changed one a new version within 2 s, without a restart; a running execution keeps the version it started
 * with; a broken edit keeps the last good version and lists the error; a deleted file retires its runbooks
 * (their history stays); two saves within the debounce are one version.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Client } from 'pg';
import { createTestEnv, destroyTestEnv, Portal, sleep, startPortal, type TestEnv } from './harness';

jest.setTimeout(60_000);

/** A runbook on the portal's own node whose one step prints `text` (after sleeping, to be caught running). */
function runbookYaml(id: string, text: string, sleepSeconds = 0): string {
  return [
    'apiVersion: baton/v1',
    'kind: Runbook',
    `id: ${id}`,
    `title: Says ${text}`,
    'targets: { local: true }',
    'steps:',
    '  - id: say',
    `    run: sleep ${sleepSeconds}; echo "${text}"`,
    '',
  ].join('\n');
}

describe('hot reload of RUNBOOKS_DIR', () => {
  let env: TestEnv;
  let portal: Portal;
  let dir: string;

  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  const versionOf = async (id: string): Promise<string | undefined> => {
    const res = await portal.request('GET', `/api/v1/runbooks/${id}`);
    return res.status === 200 ? res.body.version : undefined;
  };
  /** Polls until `check` holds, and says how long that took; fails after 2 s, the promise made to users. */
  async function within2s(what: string, check: () => Promise<boolean>): Promise<number> {
    const startedAt = Date.now();
    while (!(await check())) {
      if (Date.now() - startedAt > 2000) throw new Error(`not within 2 s: ${what}`);
      await sleep(25);
    }
    return Date.now() - startedAt;
  }
  async function storedVersions(id: string): Promise<string[]> {
    const client = new Client({ connectionString: env.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT hash FROM runbook_versions WHERE runbook_id = $1', [id]);
      return rows.map((r: { hash: string }) => r.hash);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-hot-reload-'));
    write('hello.yaml', runbookYaml('hot.hello', 'hello one'));
    env = await createTestEnv(dir);
    portal = await startPortal(env);
  });

  afterAll(async () => {
    await portal?.close();
    if (env) await destroyTestEnv(env);
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads a new file, also in a new subdirectory, within 2 s', async () => {
    write('added.yaml', runbookYaml('hot.added', 'added'));
    await within2s('hot.added appears', async () => (await versionOf('hot.added')) !== undefined);

    mkdirSync(join(dir, 'team', 'web'), { recursive: true });
    write('team/web/nested.yaml', runbookYaml('hot.nested', 'nested'));
    await within2s('hot.nested appears', async () => (await versionOf('hot.nested')) !== undefined);
  });

  it('makes a changed file a new version, while a running execution keeps the version it started with', async () => {
    write('slow.yaml', runbookYaml('hot.slow', 'slow one', 2));
    await within2s('hot.slow appears', async () => (await versionOf('hot.slow')) !== undefined);
    const first = await versionOf('hot.slow');
    const id = await portal.run('hot.slow', {});

    write('slow.yaml', runbookYaml('hot.slow', 'slow two', 2));
    await within2s('hot.slow changes', async () => (await versionOf('hot.slow')) !== first);

    const ended = await portal.waitForEnd(id);
    expect(ended).toMatchObject({ status: 'succeeded', runbookVersion: first });
    expect((await portal.request('GET', `/api/v1/executions/${id}/logs`)).text).toContain('slow one');
    const next = await portal.waitForEnd(await portal.run('hot.slow', {}));
    expect(next.runbookVersion).toBe(await versionOf('hot.slow'));
  });

  it('keeps the last good version of a broken file, lists the error, and takes the fixed file', async () => {
    const good = await versionOf('hot.hello');
    write('hello.yaml', runbookYaml('hot.hello', 'hello two').replace('    run:', '    timeout: soon\n    run:'));
    const file = relative(process.cwd(), join(dir, 'hello.yaml'));
    await within2s('the error is listed', async () => {
      const errors = (await portal.request('GET', '/api/v1/resources/errors')).body as { file: string }[];
      return errors.some((e) => e.file === file);
    });
    const errors = (await portal.request('GET', '/api/v1/resources/errors')).body;
    expect(errors).toEqual([
      { file, line: 8, column: 14, message: 'steps[0].timeout: must be a duration such as 500ms, 30s, 15m, 2h (got "soon")' },
    ]);
    expect(await versionOf('hot.hello')).toBe(good);
    expect((await portal.waitForEnd(await portal.run('hot.hello', {}))).status).toBe('succeeded');

    write('hello.yaml', runbookYaml('hot.hello', 'hello three'));
    await within2s('the fixed file loads', async () => (await versionOf('hot.hello')) !== good);
    expect((await portal.request('GET', '/api/v1/resources/errors')).body).toEqual([]);
  });

  it('retires the runbooks of a deleted file; their executions and versions stay', async () => {
    write('doomed.yaml', runbookYaml('hot.doomed', 'doomed'));
    await within2s('hot.doomed appears', async () => (await versionOf('hot.doomed')) !== undefined);
    const version = await versionOf('hot.doomed');
    const id = await portal.run('hot.doomed', {});
    await portal.waitForEnd(id);

    unlinkSync(join(dir, 'doomed.yaml'));
    await within2s('hot.doomed is retired', async () => (await versionOf('hot.doomed')) === undefined);
    expect((await portal.request('POST', '/api/v1/runbooks/hot.doomed/executions', {})).status).toBe(404);
    expect((await portal.request('GET', `/api/v1/executions/${id}`)).body).toMatchObject({ status: 'succeeded', runbookVersion: version });
    expect(await storedVersions('hot.doomed')).toEqual([version]);
    expect((await portal.request('GET', '/api/v1/runbooks')).body.map((r: { id: string }) => r.id)).not.toContain('hot.doomed');
  });

  it('stores one version for a file saved twice within the debounce', async () => {
    write('twice.yaml', runbookYaml('hot.twice', 'first'));
    await within2s('hot.twice appears', async () => (await versionOf('hot.twice')) !== undefined);
    const before = await storedVersions('hot.twice');

    write('twice.yaml', runbookYaml('hot.twice', 'second'));
    await sleep(50);
    write('twice.yaml', runbookYaml('hot.twice', 'third'));
    const first = before[0];
    await within2s('hot.twice changes', async () => (await versionOf('hot.twice')) !== first);
    await sleep(700); // a second reload, if there were one, would have stored by now
    const after = await storedVersions('hot.twice');
    expect(after).toHaveLength(2);
    expect(after).toContain(await versionOf('hot.twice'));
    const show = (await portal.request('GET', '/api/v1/runbooks/hot.twice')).body;
    expect(show.steps[0].run).toContain('third');
  });
});
