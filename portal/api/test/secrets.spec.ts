/**
 * Secrets end to end, over real PostgreSQL, NATS and an agent process: the API never returns a value and the
 * database holds only ciphertext; runs get the value in their environment only, and every log (stored and
 * streamed), output, step error, execution record and error response shows *** instead.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { connect } from '@nats-io/transport-node';
import { subjects } from '@baton/shared';
import { AgentProcess, NATS_URL, Portal, TestEnv, createTestEnv, destroyTestEnv, startPortal } from './harness';

jest.setTimeout(60_000);

const ROOT = join(__dirname, '..', '..', '..');
const TOKEN = 'hunter2-token';
const PARAM_VALUE = 'param-s3cret-value';

const TEST_RUNBOOKS = `
apiVersion: baton/v1
kind: Runbook
id: test.secrets
title: Uses secrets every way
params:
  api_key: { type: secret }
  backed: { type: secret, secret: demo-token }
  note: { type: string, pattern: "^[a-z ]*$" }
targets:
  local: true
steps:
  - id: split
    # The value written in two parts with a pause: two output chunks.
    run: |
      printf 'tok: hunter'; sleep 0.2; printf '2-token end\\n'
  # After split: a step running beside it would write between its two parts in the combined log.
  - id: params
    needs: [split]
    run: |
      echo "api key $API_KEY"
      echo "backed $BACKED"
      echo "key=$API_KEY" >> "$BATON_OUTPUT"
  - id: env
    needs: [split]
    env: { TOKEN: { secret: demo-token } }
    run: |
      echo "env token $TOKEN" >&2
      echo "token=$TOKEN" >> "$BATON_OUTPUT"
  - id: bad-shell
    shell: /no/such/dir/hunter2-token
    continueOnError: true
    run: "true"
---
apiVersion: baton/v1
kind: Runbook
id: test.missing-secret
title: Uses a secret nobody set
targets:
  local: true
steps:
  - id: call
    env: { KEY: { secret: never-set } }
    run: echo "$KEY"
`;

describe('secrets', () => {
  let env: TestEnv;
  let portal: Portal;
  let agent: AgentProcess;
  let runbooksDir: string;

  beforeAll(async () => {
    runbooksDir = mkdtempSync(join(tmpdir(), 'baton-secrets-runbooks-'));
    copyFileSync(join(ROOT, 'runbooks/demo/secret-echo.yaml'), join(runbooksDir, 'secret-echo.yaml'));
    writeFileSync(join(runbooksDir, 'test.yaml'), TEST_RUNBOOKS);
    env = await createTestEnv(runbooksDir);
    portal = await startPortal(env, { BATON_MASTER_KEY: randomBytes(32).toString('hex') });
    expect((await portal.request('GET', '/api/v1/resources/errors')).body).toEqual([]);
    agent = new AgentProcess('sec-agent', portal, 'role=secrets').start();
    await portal.waitForNodes(['sec-agent'], 30_000);
    expect((await portal.request('PUT', '/api/v1/secrets/demo-token', { value: TOKEN })).status).toBe(200);
  });

  afterAll(async () => {
    await agent?.stop();
    await portal?.close();
    await destroyTestEnv(env);
    rmSync(runbooksDir, { recursive: true, force: true });
  });

  describe('the API', () => {
    it('lists names, who set them and when, never values', async () => {
      const list = await portal.request('GET', '/api/v1/secrets');
      expect(list.status).toBe(200);
      expect(list.body).toEqual([{ name: 'demo-token', setBy: 'admin', createdAt: expect.any(String), updatedAt: expect.any(String) }]);
      expect(list.text).not.toContain(TOKEN);
    });

    it('stores only ciphertext in the database', async () => {
      const db = new Client({ connectionString: env.databaseUrl });
      await db.connect();
      try {
        const { rows } = await db.query(`SELECT row_to_json(s)::text AS row, ciphertext FROM secrets s WHERE name = 'demo-token'`);
        expect(rows).toHaveLength(1);
        expect(rows[0].row).not.toContain(TOKEN);
        expect((rows[0].ciphertext as Buffer).includes(Buffer.from(TOKEN))).toBe(false);
      } finally {
        await db.end();
      }
    });

    it('replaces, deletes, and answers 404 for a secret that is gone', async () => {
      const first = await portal.request('PUT', '/api/v1/secrets/scratch.key_1', { value: 'first-value' });
      expect(first.status).toBe(200);
      expect(first.text).not.toContain('first-value');
      const second = await portal.request('PUT', '/api/v1/secrets/scratch.key_1', { value: 'second-value' });
      expect(second.body).toMatchObject({ name: 'scratch.key_1', setBy: 'admin' });
      expect(new Date(second.body.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(first.body.updatedAt).getTime());
      expect((await portal.request('DELETE', '/api/v1/secrets/scratch.key_1')).status).toBe(204);
      expect((await portal.request('DELETE', '/api/v1/secrets/scratch.key_1')).status).toBe(404);
      const names = (await portal.request('GET', '/api/v1/secrets')).body.map((s: { name: string }) => s.name);
      expect(names).toEqual(['demo-token']);
    });

    it('refuses a bad name and a value too short to mask, without echoing the value', async () => {
      const badName = await portal.request('PUT', '/api/v1/secrets/Bad%20Name', { value: 'long-enough' });
      expect(badName.status).toBe(400);
      expect(badName.body.message).toContain('name');
      const short = await portal.request('PUT', '/api/v1/secrets/short', { value: 'abc' });
      expect(short.status).toBe(400);
      expect(short.body.message).toContain('at least 4 characters');
      expect(short.text).not.toContain('"abc"');
    });
  });

  describe('runs', () => {
    for (const node of ['local', 'sec-agent']) {
      it(`give demo.secret-echo the value on ${node} and show *** in the stored and streamed log`, async () => {
        const id = await portal.run('demo.secret-echo', node === 'local' ? {} : { targets: { names: [node] } });
        const follow = fetch(`${portal.url}/api/v1/executions/${id}/logs?follow=1`, {
          headers: { authorization: `Bearer ${portal.token}` },
        });
        const execution = await portal.waitForEnd(id);
        expect(execution).toMatchObject({ status: 'succeeded', nodes: [expect.objectContaining({ node })] });
        const logs = await portal.request('GET', `/api/v1/executions/${id}/logs`);
        expect(logs.text).toContain('the token is ***');
        expect(logs.text).toContain(`token length: ${TOKEN.length}`);
        expect(logs.text).not.toContain(TOKEN);
        const streamed = await (await follow).text();
        expect(streamed).toContain('the token is ***');
        expect(streamed).not.toContain(TOKEN);
      });

      it(`mask a value split across two writes, secret parameters, outputs and step errors on ${node}`, async () => {
        const targets = node === 'local' ? {} : { targets: { names: [node] } };
        const id = await portal.run('test.secrets', { params: { api_key: PARAM_VALUE, note: 'plain words' }, ...targets });
        const execution = await portal.waitForEnd(id);
        expect(execution.status).toBe('succeeded');
        expect(execution.params).toEqual({ api_key: '***', backed: '***', note: 'plain words' });
        const steps = Object.fromEntries(execution.nodes[0].steps.map((s: { id: string }) => [s.id, s]));
        expect(steps.params.outputs).toEqual({ key: '***' });
        expect(steps.env.outputs).toEqual({ token: '***' });
        expect(steps['bad-shell']).toMatchObject({ status: 'failed', error: expect.stringContaining('/no/such/dir/***') });

        const logs = (await portal.request('GET', `/api/v1/executions/${id}/logs`)).text;
        expect(logs).toContain('tok: *** end\n');
        expect(logs).toContain('api key ***\n');
        expect(logs).toContain('backed ***\n');
        expect(logs).toContain('env token ***\n');
        const record = JSON.stringify(execution) + logs;
        for (const value of [TOKEN, PARAM_VALUE, 'hunter2']) expect(record).not.toContain(value);
      });
    }

    it('seals dispatch orders to the node: a rogue subscriber on a permissive NATS server sees no secret value', async () => {
      const rogue = await connect({ servers: NATS_URL });
      const seen: string[] = [];
      rogue.subscribe(subjects(env.prefix).dispatch('*'), {
        callback: (_err, msg) => {
          seen.push(msg.string());
        },
      });
      await rogue.flush();
      const id = await portal.run('test.secrets', { params: { api_key: PARAM_VALUE, note: 'sealed' }, targets: { names: ['sec-agent'] } });
      expect((await portal.waitForEnd(id)).status).toBe('succeeded');
      await rogue.close();
      expect(seen).toHaveLength(1);
      expect(seen[0]).toContain('sealedPlan');
      for (const value of [TOKEN, PARAM_VALUE, 'hunter2', 'API_KEY', 'echo']) expect(seen[0]).not.toContain(value);
    });

    it('refuses to start a run whose secret does not exist, naming it and the step', async () => {
      const before = (await portal.request('GET', '/api/v1/executions?runbook=test.missing-secret&limit=10')).body;
      const res = await portal.request('POST', '/api/v1/runbooks/test.missing-secret/executions', {});
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('never-set');
      expect(res.body.message).toContain('steps.call.env.KEY');
      const after = (await portal.request('GET', '/api/v1/executions?runbook=test.missing-secret&limit=10')).body;
      expect(after).toEqual(before);
    });

    it('masks a secret value that ends up in an error message', async () => {
      const res = await portal.request('POST', '/api/v1/runbooks/test.secrets/executions', { params: { note: `oops ${TOKEN}` } });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('params.note');
      expect(res.body.message).toContain('oops ***');
      expect(res.text).not.toContain(TOKEN);
    });

    it('does not show a secret parameter value in its own validation error', async () => {
      const res = await portal.request('POST', '/api/v1/runbooks/test.secrets/executions', { params: { api_key: 'xyz' } });
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual([expect.objectContaining({ field: 'params.api_key' })]);
      expect(res.text).not.toContain('xyz');
    });
  });
});
