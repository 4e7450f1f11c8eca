/**
 * Retention against real PostgreSQL: records older than BATON_RETENTION go, with what hangs off them; what is still
 * live or still needed (a running execution, a job's newest fire, a pending delivery, an unresolved alert episode,
 * the audit log) stays.
 */
import { join } from 'node:path';
import { Client } from 'pg';
import { RetentionService } from '../src/retention/retention.service';
import { createTestEnv, destroyTestEnv, startPortal, type Portal, type TestEnv } from './harness';

jest.setTimeout(60_000);

describe('retention', () => {
  let env: TestEnv;
  let portal: Portal;
  let db: Client;

  beforeAll(async () => {
    env = await createTestEnv(join(__dirname, 'runbooks'));
    // No hook worker: the old pending delivery must stay pending while the test looks.
    portal = await startPortal(env, { BATON_RETENTION: '1h', BATON_HOOK_WORKER: 'false' });
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await portal?.close();
    if (env) await destroyTestEnv(env);
  });

  const count = async (sql: string, params: unknown[] = []) => Number((await db.query(sql, params)).rows[0].n);

  it('deletes old finished executions, fires, deliveries and episodes, and keeps what is live or still needed', async () => {
    const run = async (message: string) => {
      const id = await portal.run('test.echo', { params: { message }, targets: { local: true } });
      expect((await portal.waitForEnd(id)).status).toBe('succeeded');
      return id;
    };
    const old = await run('old news');
    const recent = await run('fresh news');
    const running = await portal.run('test.sleep', { params: { nap_seconds: 30 }, targets: { local: true } });
    await db.query(
      `UPDATE executions SET created_at = now() - interval '3 hours', finished_at = now() - interval '2 hours' WHERE id = $1`,
      [old],
    );
    await db.query(`UPDATE executions SET created_at = now() - interval '3 hours' WHERE id = $1`, [running]);
    expect(
      await count(`SELECT count(*) AS n FROM node_events e JOIN node_runs r ON r.id = e.node_run_id WHERE r.execution_id = $1`, [old]),
    ).toBeGreaterThan(0);

    const longAgo = `now() - interval '2 hours'`;
    await db.query(`INSERT INTO job_fires (job_id, fire_time, kind, outcome, claimed_by, claimed_at) VALUES
      ('j', ${longAgo} - interval '1 minute', 'scheduled', 'started', 'test', ${longAgo}),
      ('j', ${longAgo}, 'scheduled', 'started', 'test', ${longAgo})`);
    await db.query(`INSERT INTO hooks (name, type, token_hash, created_by) VALUES ('h', 'alertmanager', 'x', 'test')`);
    await db.query(`INSERT INTO hook_deliveries (hook, status, payload, received_at) VALUES
      ('h', 'processed', '{}', ${longAgo}), ('h', 'pending', '{}', ${longAgo}), ('h', 'processed', '{}', now())`);
    await db.query(`INSERT INTO alert_episodes (rule_id, fingerprint, starts_at, hook, first_seen_at, resolved_at) VALUES
      ('r', 'resolved', 't', 'h', ${longAgo}, ${longAgo}), ('r', 'firing', 't', 'h', ${longAgo}, NULL)`);
    await db.query(`INSERT INTO alert_remediations (rule_id, fingerprint, starts_at, started_at) VALUES
      ('r', 'resolved', 't', ${longAgo}), ('r', 'firing', 't', now())`);

    const counts = await portal.app.get(RetentionService).prune();
    expect(counts).toEqual({ executions: 1, jobFires: 1, hookDeliveries: 1, alertEpisodes: 1, alertRemediations: 1 });

    expect((await portal.request('GET', `/api/v1/executions/${old}`)).status).toBe(404);
    expect(await count(`SELECT count(*) AS n FROM node_runs WHERE execution_id = $1`, [old])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM node_events e LEFT JOIN node_runs r ON r.id = e.node_run_id WHERE r.id IS NULL`)).toBe(0);
    expect((await portal.request('GET', `/api/v1/executions/${recent}`)).status).toBe(200);
    expect((await portal.request('GET', `/api/v1/executions/${running}`)).body.status).toBe('running');
    expect(await count(`SELECT count(*) AS n FROM job_fires WHERE job_id = 'j'`)).toBe(1); // the newest: where to resume
    expect((await db.query(`SELECT status FROM hook_deliveries ORDER BY id`)).rows.map((r) => r.status)).toEqual(['pending', 'processed']);
    expect((await db.query(`SELECT fingerprint FROM alert_episodes`)).rows).toEqual([{ fingerprint: 'firing' }]);
    expect(await count(`SELECT count(*) AS n FROM alert_remediations`)).toBe(1);

    const audit = (await portal.request('GET', '/api/v1/audit?action=retention.pruned')).body.items;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: { type: 'system', name: 'retention' }, details: { executions: 1, jobFires: 1 } });
    // The audit log itself is not pruned: the old execution's audit events are still there.
    const trail = (await portal.request('GET', `/api/v1/audit?target=${encodeURIComponent(`execution:${old}`)}`)).body.items;
    expect(trail.length).toBeGreaterThan(0);

    // A second pass finds nothing more, and says nothing.
    expect(await portal.app.get(RetentionService).prune()).toEqual({
      executions: 0,
      jobFires: 0,
      hookDeliveries: 0,
      alertEpisodes: 0,
      alertRemediations: 0,
    });
    expect((await portal.request('GET', '/api/v1/audit?action=retention.pruned')).body.items).toHaveLength(1);
    await portal.request('POST', `/api/v1/executions/${running}/cancel`);
  });
});
