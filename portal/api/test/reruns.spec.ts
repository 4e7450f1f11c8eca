/**
 * "Run again" and "Retry failed nodes" on a portal without NATS: the local node runs, and an SSH node on a closed
 * port is the node that fails. A rerun keeps the first run's runbook version, parameters and targets (or only the
 * nodes that did not succeed), is linked to it both ways, and is refused with 409 when it could not be honest.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunbooksService } from '../src/runbooks/runbooks.service';
import { createTestEnv, destroyTestEnv, freePort, startPortal, type Portal, type TestEnv } from './harness';

jest.setTimeout(120_000);

const RUNBOOKS = `
apiVersion: baton/v1
kind: Runbook
id: rerun.exit
title: Exit with the given code
params:
  code: { type: integer, default: 0 }
targets: { local: true }
steps:
  - id: exit
    run: echo "exiting with $CODE"; exit $CODE
---
apiVersion: baton/v1
kind: Runbook
id: rerun.secret
title: Use a secret parameter
params:
  password: { type: secret, required: true }
targets: { local: true }
steps:
  - id: use
    run: test -n "$PASSWORD"
`;

describe('run again and retry failed nodes', () => {
  let env: TestEnv;
  let portal: Portal;
  let dir: string;

  const rerun = (id: string, body: unknown = {}) => portal.request('POST', `/api/v1/executions/${id}/rerun`, body);
  const execution = async (id: string) => (await portal.request('GET', `/api/v1/executions/${id}`)).body;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-reruns-'));
    writeFileSync(join(dir, 'reruns.yaml'), RUNBOOKS);
    env = await createTestEnv(dir);
    portal = await startPortal(env, { NATS_URL: '' });
    // Nothing listens there: every run on it fails to connect.
    const node = { name: 'ssh-dead', host: '127.0.0.1', port: await freePort(), user: 'root', keySecret: 'ssh-key', hostKey: 'tofu' };
    expect((await portal.request('POST', '/api/v1/nodes', node)).status).toBe(201);
  });

  afterAll(async () => {
    await portal?.close();
    if (env) await destroyTestEnv(env);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs an execution again with the same runbook version, parameters and targets, linked both ways', async () => {
    const firstId = await portal.run('rerun.exit', { params: { code: 4 } });
    const first = await portal.waitForEnd(firstId);
    expect(first.status).toBe('failed');

    const res = await rerun(firstId);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ rerunOf: firstId });
    const again = await portal.waitForEnd(res.body.id);
    expect(again).toMatchObject({
      status: 'failed',
      runbookVersion: first.runbookVersion,
      params: { code: 4 },
      targets: first.targets,
      trigger: { type: 'user', user: 'admin' },
      rerunOf: firstId,
      reruns: [],
    });
    expect(again.nodes.map((n: { node: string }) => n.node)).toEqual(['local']);
    expect((await execution(firstId)).reruns).toEqual([res.body.id]);
  });

  it('retries only the nodes that did not succeed', async () => {
    const firstId = await portal.run('rerun.exit', { targets: { names: ['local', 'ssh-dead'], concurrency: 1 } });
    const first = await portal.waitForEnd(firstId);
    expect(first.nodes.map((n: { node: string; status: string }) => [n.node, n.status])).toEqual([
      ['local', 'succeeded'],
      ['ssh-dead', expect.not.stringMatching(/^succeeded$/)],
    ]);

    const res = await rerun(firstId, { onlyFailedNodes: true });
    expect(res.status).toBe(201);
    const retry = await portal.waitForEnd(res.body.id);
    expect(retry.targets).toEqual({ names: ['ssh-dead'], concurrency: 1 });
    expect(retry.nodes.map((n: { node: string }) => n.node)).toEqual(['ssh-dead']);
    expect(retry.rerunOf).toBe(firstId);

    // Run again (all nodes) still takes both.
    const all = await portal.waitForEnd((await rerun(firstId)).body.id);
    expect(all.nodes.map((n: { node: string }) => n.node)).toEqual(['local', 'ssh-dead']);
  });

  it('says there is nothing to retry when every node succeeded, and refuses unknown executions and bad bodies', async () => {
    const okId = await portal.run('rerun.exit', {});
    expect((await portal.waitForEnd(okId)).status).toBe('succeeded');
    const nothing = await rerun(okId, { onlyFailedNodes: true });
    expect(nothing.status).toBe(409);
    expect(nothing.body.message).toBe('every node succeeded: there is no failed node to retry');
    expect((await rerun('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await rerun(okId, { onlyFailedNodes: 'yes' })).status).toBe(400);
  });

  it('refuses to run again with a secret parameter it never stored, until it is given again', async () => {
    const firstId = await portal.run('rerun.secret', { params: { password: 'correct-horse-battery' } });
    const first = await portal.waitForEnd(firstId);
    expect(first).toMatchObject({ status: 'succeeded', params: { password: '***' } });

    const refused = await rerun(firstId);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/^parameter password held secret values, which are never stored: give it again in "params"/);
    expect(refused.body.details).toEqual([{ field: 'params.password', message: 'a secret value is never stored; give it again' }]);

    const given = await rerun(firstId, { params: { password: 'correct-horse-battery' } });
    expect(given.status).toBe(201);
    expect(await portal.waitForEnd(given.body.id)).toMatchObject({ status: 'succeeded', params: { password: '***' }, rerunOf: firstId });
  });

  it('refuses to run again once the runbook changed: the version it ran is no longer the one dispatch runs', async () => {
    const firstId = await portal.run('rerun.exit', {});
    await portal.waitForEnd(firstId);
    const file = join(dir, 'reruns.yaml');
    const original = readFileSync(file, 'utf8');
    try {
      writeFileSync(file, original.replace('title: Exit with the given code', 'title: Exit with a code'));
      await portal.app.get(RunbooksService).loadFromDirectory(dir);
      const refused = await rerun(firstId);
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/^runbook "rerun.exit" changed since this execution \(version [0-9a-f]{12}, now [0-9a-f]{12}\)/);
    } finally {
      writeFileSync(file, original);
      await portal.app.get(RunbooksService).loadFromDirectory(dir);
    }
  });
});
