/**
 * Four-eyes approvals end to end on real PostgreSQL, runs on the `local` node: a run that needs approval waits and
 * dispatches nothing; approvers decide once each; enough approvals run it with its parameters; one rejection ends it
 * `rejected`; no decision in time ends it `timed_out`; the requester may not approve; a role removed after sign-in
 * no longer counts; racing decisions settle once; a portal restart keeps the waiting run and its decisions.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, Portal, createTestEnv, destroyTestEnv, sleep, startPortal, type TestEnv } from './harness';

jest.setTimeout(90_000);

const RUNBOOKS = `
apiVersion: baton/v1
kind: Runbook
id: ap.restart
title: Restart, approved in production
params:
  stage: { type: enum, values: [staging, prod], default: staging }
  reason: { type: string, default: "routine" }
approval:
  required: 2
  approvers: { roles: [editor], users: [carol] }
  when: { param: stage, in: [prod] }
targets: { local: true }
steps:
  - id: restart
    run: echo "restarting $STAGE because $REASON"
---
apiVersion: baton/v1
kind: Runbook
id: ap.quick
title: Approval that times out
approval: { approvers: { roles: [editor] }, timeout: 1s }
targets: { local: true }
steps:
  - id: work
    run: echo never
`;

const PASSWORD = 'a-long-test-password';

describe('approvals', () => {
  const runbooksDir = mkdtempSync(join(tmpdir(), 'baton-approvals-'));
  let env: TestEnv;
  let admin: Portal;
  const as: Record<string, Portal> = {};

  async function signIn(username: string): Promise<Portal> {
    const p = new Portal(admin.app, admin.url);
    await p.login(username, PASSWORD);
    return p;
  }

  async function status(id: string): Promise<any> {
    return (await admin.request('GET', `/api/v1/executions/${id}`)).body;
  }

  beforeAll(async () => {
    writeFileSync(join(runbooksDir, 'approvals.yaml'), RUNBOOKS);
    env = await createTestEnv(runbooksDir);
    admin = await startPortal(env, { NATS_URL: '' });
    const users: Record<string, { role: string }[]> = {
      alice: [{ role: 'operator' }],
      bob: [{ role: 'editor' }],
      dave: [{ role: 'editor' }],
      carol: [{ role: 'viewer' }],
      eve: [{ role: 'viewer' }],
    };
    for (const [username, roles] of Object.entries(users)) {
      expect((await admin.request('POST', '/api/v1/users', { username, password: PASSWORD, roles })).status).toBe(201);
      as[username] = await signIn(username);
    }
  });

  afterAll(async () => {
    await admin?.close();
    if (env) await destroyTestEnv(env);
    rmSync(runbooksDir, { recursive: true, force: true });
  });

  it('runs at once when the approval rule does not apply (when: stage in [prod])', async () => {
    const id = await as.alice.run('ap.restart', { params: { stage: 'staging' } });
    expect((await admin.waitForEnd(id)).status).toBe('succeeded');
  });

  it('waits for two distinct approvers, refusing the wrong people, then runs as requested', async () => {
    const id = await as.alice.run('ap.restart', { params: { stage: 'prod', reason: 'memory leak' } });
    await sleep(500);
    const waiting = await status(id);
    expect(waiting).toMatchObject({ status: 'waiting', approval: { required: 2, requestedBy: 'alice', decisions: [] } });
    expect(waiting.nodes[0]).toMatchObject({ status: 'queued' });

    expect((await as.bob.request('GET', '/api/v1/approvals')).body.map((a: { id: string }) => a.id)).toContain(id);
    expect((await as.eve.request('GET', '/api/v1/approvals')).body).toEqual([]);
    const notApprover = await as.eve.request('POST', `/api/v1/executions/${id}/approve`, {});
    expect(notApprover.status).toBe(403);
    expect(notApprover.body.message).toBe('only role editor, user carol may decide this run');

    expect((await as.bob.request('POST', `/api/v1/executions/${id}/approve`, { comment: 'looks right' })).status).toBe(200);
    const twice = await as.bob.request('POST', `/api/v1/executions/${id}/approve`, {});
    expect(twice.status).toBe(409);
    expect(twice.body.message).toContain('bob has already decided');
    expect((await status(id)).status).toBe('waiting');

    const second = await as.carol.request('POST', `/api/v1/executions/${id}/approve`, {});
    expect(second.status).toBe(200);
    expect(second.body.decisions.map((d: { user: string }) => d.user)).toEqual(['bob', 'carol']);
    const done = await admin.waitForEnd(id);
    expect(done.status).toBe('succeeded');
    expect((await admin.request('GET', `/api/v1/executions/${id}/logs`)).text).toContain('restarting prod because memory leak');
    const late = await as.dave.request('POST', `/api/v1/executions/${id}/approve`, {});
    expect(late.status).toBe(409);
  });

  it('never lets the requester approve their own run (four eyes)', async () => {
    const id = await as.bob.run('ap.restart', { params: { stage: 'prod' } });
    const own = await as.bob.request('POST', `/api/v1/executions/${id}/approve`, {});
    expect(own.status).toBe(403);
    expect(own.body.message).toBe('four eyes: the requester may not approve their own run');
    expect((await as.bob.request('GET', '/api/v1/approvals')).body.map((a: { id: string }) => a.id)).not.toContain(id);
    await as.dave.request('POST', `/api/v1/executions/${id}/reject`, { comment: 'cleanup' });
  });

  it('ends a run rejected by one approver, with a comment that is required', async () => {
    const id = await as.alice.run('ap.restart', { params: { stage: 'prod' } });
    const bare = await as.dave.request('POST', `/api/v1/executions/${id}/reject`, {});
    expect(bare.status).toBe(400);
    expect(bare.body.message).toContain('comment: required to reject');
    expect((await as.dave.request('POST', `/api/v1/executions/${id}/reject`, { comment: 'not during the sale' })).status).toBe(200);
    const ended = await status(id);
    expect(ended).toMatchObject({ status: 'rejected', reason: 'rejected by dave: not during the sale' });
    expect(ended.nodes[0]).toMatchObject({ status: 'cancelled' });
    expect((await as.bob.request('POST', `/api/v1/executions/${id}/approve`, {})).status).toBe(409);
    const audit = (await admin.request('GET', `/api/v1/audit?action=execution.reject&limit=5`)).body.items;
    expect(audit[0]).toMatchObject({ actor: { name: 'dave' } });
  });

  it('times out a run nobody decided', async () => {
    const id = await as.alice.run('ap.quick', {});
    const ended = await admin.waitForEnd(id, 15_000);
    expect(ended).toMatchObject({ status: 'timed_out', reason: 'approval not given in time' });
  });

  it('settles racing approvals and a rejection once', async () => {
    const id = await as.alice.run('ap.restart', { params: { stage: 'prod' } });
    const answers = await Promise.all([
      as.bob.request('POST', `/api/v1/executions/${id}/approve`, {}),
      as.carol.request('POST', `/api/v1/executions/${id}/approve`, {}),
      as.dave.request('POST', `/api/v1/executions/${id}/reject`, { comment: 'race' }),
    ]);
    const ended = await admin.waitForEnd(id);
    const decisions = ended.approval.decisions as { decision: string }[];
    if (ended.status === 'rejected') {
      expect(ended.nodes[0].status).toBe('cancelled');
    } else {
      expect(ended.status).toBe('succeeded');
      expect(decisions.filter((d) => d.decision === 'approved')).toHaveLength(2);
      expect(decisions.some((d) => d.decision === 'rejected')).toBe(false);
    }
    // Whoever came after the outcome was told so, and wrote nothing.
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
  });

  it('refuses a decision from someone whose role was removed after signing in', async () => {
    const id = await as.alice.run('ap.restart', { params: { stage: 'prod' } });
    const demoted = await admin.request('PATCH', '/api/v1/users/dave', { roles: [{ role: 'viewer' }] });
    expect(demoted.status).toBe(200);
    const stale = await as.dave.request('POST', `/api/v1/executions/${id}/approve`, {});
    expect(stale.status).toBe(403);
    await as.bob.request('POST', `/api/v1/executions/${id}/reject`, { comment: 'cleanup' });
  });

  it('keeps a waiting run and its decisions across a portal restart', async () => {
    const id = await as.alice.run('ap.restart', { params: { stage: 'prod' } });
    expect((await as.bob.request('POST', `/api/v1/executions/${id}/approve`, {})).status).toBe(200);
    await admin.close();
    admin = await startPortal(env, { NATS_URL: '', BATON_ADMIN_PASSWORD: ADMIN_PASSWORD });
    const carol = await signIn('carol');
    expect((await status(id)).approval.decisions).toHaveLength(1);
    expect((await carol.request('POST', `/api/v1/executions/${id}/approve`, {})).status).toBe(200);
    expect((await admin.waitForEnd(id)).status).toBe('succeeded');
  });
});
