/**
 * Scheduled jobs end to end: two portal replicas on one database firing a per-second job exactly once per fire
 * time (also after one is closed), `concurrency: forbid`, misfires after a downtime, run now, validation, and
 * listing a job's executions.
 */
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestEnv, destroyTestEnv, Portal, sleep, startPortal, type TestEnv } from './harness';

jest.setTimeout(120_000);

const RUNBOOKS = join(__dirname, 'runbooks-jobs');

interface FireRow {
  fire_time: Date;
  kind: string;
  outcome: string;
  reason: string | null;
  execution_id: string | null;
  claimed_by: string;
}

async function query<T>(env: TestEnv, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const firesOf = (env: TestEnv, jobId: string) =>
  query<FireRow>(env, `SELECT * FROM job_fires WHERE job_id = $1 ORDER BY fire_time`, [jobId]);

const perSecondJob = (id: string, runbook: string, extra: Record<string, unknown> = {}) => ({
  id,
  runbook,
  schedule: { cron: '* * * * * *' },
  ...extra,
});

describe('scheduled jobs', () => {
  let env: TestEnv;
  let a: Portal;
  let b: Portal;
  let isAClosed = false;

  beforeAll(async () => {
    env = await createTestEnv(RUNBOOKS);
    a = await startPortal(env);
    b = await startPortal(env);
  });

  afterAll(async () => {
    if (!isAClosed) await a?.close();
    await b?.close();
    if (env) await destroyTestEnv(env);
  });

  it('loads jobs from resource files and shows their next fire times in their time zone', async () => {
    const res = await a.request('GET', '/api/v1/jobs/jobs.new-year');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: 'jobs.new-year',
      runbook: 'jobs.quick',
      schedule: { cron: '0 3 1 1 *', timezone: 'Europe/Berlin' },
      concurrency: 'forbid',
      misfire: 'skip',
      enabled: true,
      sourceFile: expect.stringContaining('runbooks-jobs/jobs.yaml'),
      lastFires: [],
    });
    expect(res.body.nextFireTimes).toHaveLength(5);
    // 03:00 CET is 02:00 UTC.
    for (const time of res.body.nextFireTimes) expect(time).toMatch(/^\d{4}-01-01T02:00:00.000Z$/);
    const changed = await a.request('PATCH', '/api/v1/jobs/jobs.new-year', { enabled: false });
    expect(changed.status).toBe(409);
    expect(changed.body.message).toContain('runbooks-jobs/jobs.yaml');
  });

  it('refuses an invalid job with a message naming the field', async () => {
    const post = (body: unknown) => a.request('POST', '/api/v1/jobs', body);
    const cases: [unknown, string][] = [
      [
        perSecondJob('jobs.bad', 'jobs.quick', { schedule: { cron: '61 * * * *' } }),
        'schedule.cron: minute field "61": 61 is outside 0-59',
      ],
      [perSecondJob('jobs.bad', 'jobs.quick', { schedule: { cron: '* * *' } }), 'schedule.cron: needs 5 fields'],
      [perSecondJob('jobs.bad', 'jobs.quick', { schedule: { cron: '0 0 30 2 *' } }), 'schedule.cron: never fires'],
      [
        perSecondJob('jobs.bad', 'jobs.quick', { schedule: { cron: '* * * * *', timezone: 'Mars/Base' } }),
        'schedule.timezone: unknown time zone',
      ],
      [perSecondJob('jobs.bad', 'jobs.quick', { concurrency: 'queue' }), 'concurrency:'],
      [perSecondJob('jobs.bad', 'jobs.missing'), 'runbook: runbook "jobs.missing" not found'],
      [perSecondJob('jobs.bad', 'jobs.slow', { params: { seconds: 99 } }), 'params.seconds:'],
      [perSecondJob('jobs.bad', 'jobs.slow', { params: { minutes: 1 } }), 'params.minutes: unknown parameter'],
      [{ id: 'jobs.bad', runbook: 'jobs.quick' }, 'schedule: required'],
      [perSecondJob('jobs.bad', 'jobs.quick', { owner: 'me' }), 'owner: unknown field'],
      [perSecondJob('Bad Id', 'jobs.quick'), 'id:'],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      expect({ status: res.status, message: res.body.message }).toEqual({ status: 400, message: expect.stringContaining(message) });
    }
    expect((await a.request('GET', '/api/v1/jobs/jobs.bad')).status).toBe(404);
  });

  it('fires a per-second job exactly once per fire time on two replicas, and keeps firing when one is closed', async () => {
    const created = await a.request('POST', '/api/v1/jobs', perSecondJob('jobs.tick', 'jobs.quick', { concurrency: 'allow' }));
    expect(created.status).toBe(201);
    await sleep(4000);
    const closedAt = new Date();
    await a.close();
    isAClosed = true;
    await sleep(4000);
    const until = new Date();
    expect((await b.request('PATCH', '/api/v1/jobs/jobs.tick', { enabled: false })).status).toBe(200);
    await sleep(500);

    const fires = (await firesOf(env, 'jobs.tick')).filter((f) => f.fire_time <= until);
    const seconds = fires.map((f) => f.fire_time.getTime() / 1000);
    expect(seconds.length).toBeGreaterThanOrEqual(6);
    // No gaps and no duplicates: consecutive seconds from the first fire to the last.
    expect(seconds).toEqual(seconds.map((_, i) => seconds[0] + i));
    expect(fires.filter((f) => f.outcome !== 'started')).toEqual([]);
    expect(fires.some((f) => f.fire_time > closedAt)).toBe(true);

    const listed = await b.request('GET', '/api/v1/executions?job=jobs.tick&limit=1000');
    expect(listed.status).toBe(200);
    const fireTimes = listed.body.map((e: { trigger: { fireTime: string } }) => e.trigger.fireTime);
    expect(new Set(fireTimes).size).toBe(fireTimes.length);
    for (const fire of fires) expect(fireTimes).toContain(fire.fire_time.toISOString());
    expect(listed.body[0]).toMatchObject({ trigger: { type: 'schedule', job: 'jobs.tick' }, actor: 'schedule:jobs.tick' });

    const shown = await b.request('GET', '/api/v1/jobs/jobs.tick');
    expect(shown.body.lastFires[0]).toMatchObject({ kind: 'schedule', outcome: 'started', execution: expect.any(String) });
    expect(shown.body.nextFireTimes).toEqual([]);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/baton_job_lateness_seconds_count [1-9]/);
  });

  it('skips fires while the previous run is still going (forbid), records the skip, and refuses a run now', async () => {
    const created = await b.request('POST', '/api/v1/jobs', perSecondJob('jobs.long', 'jobs.slow', { params: { seconds: 4 } }));
    expect(created.status).toBe(201);
    await sleep(2500);
    const runNow = await b.request('POST', '/api/v1/jobs/jobs.long/run');
    expect(runNow.status).toBe(409);
    expect(runNow.body.message).toContain('the previous run is still going');
    await b.request('DELETE', '/api/v1/jobs/jobs.long');

    const listed = (await b.request('GET', '/api/v1/executions?job=jobs.long')).body;
    expect(listed).toHaveLength(1);
    const audit = await b.request('GET', '/api/v1/audit?action=job.skipped&actor=jobs.long');
    expect(audit.body.items.length).toBeGreaterThanOrEqual(1);
    expect(audit.body.items[0]).toMatchObject({
      actor: { type: 'schedule', name: 'jobs.long' },
      details: { reason: expect.stringContaining(`execution ${listed[0].id}`) },
    });
  });

  it('runs a job now for whoever may run its runbook, and lists that run with the job', async () => {
    const created = await b.request('POST', '/api/v1/jobs', {
      id: 'jobs.yearly',
      runbook: 'jobs.quick',
      schedule: { cron: '0 0 1 1 *' },
    });
    expect(created.status).toBe(201);
    const run = await b.request('POST', '/api/v1/jobs/jobs.yearly/run');
    expect(run.status).toBe(201);
    const execution = await b.waitForEnd(run.body.id);
    expect(execution).toMatchObject({ status: 'succeeded', actor: 'admin', trigger: { type: 'user', user: 'admin', job: 'jobs.yearly' } });
    expect((await b.request('GET', '/api/v1/executions?job=jobs.yearly')).body.map((e: { id: string }) => e.id)).toEqual([run.body.id]);
    const shown = await b.request('GET', '/api/v1/jobs/jobs.yearly');
    expect(shown.body.lastFires).toEqual([expect.objectContaining({ kind: 'manual', outcome: 'started', execution: run.body.id })]);
  });
});

describe('misfires', () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await createTestEnv(RUNBOOKS);
    // Migrate, then stop: the jobs below are "left alone" while no portal runs.
    await (await startPortal(env)).close();
  });

  afterAll(async () => {
    if (env) await destroyTestEnv(env);
  });

  /** A per-minute job whose last fire was ten minutes ago. */
  async function insertStaleJob(id: string, misfire: 'skip' | 'runOnce'): Promise<Date> {
    const lastFire = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000);
    const content = {
      apiVersion: 'baton/v1',
      kind: 'Job',
      id,
      runbook: 'jobs.quick',
      schedule: { cron: '* * * * *', timezone: 'UTC' },
      concurrency: 'forbid',
      misfire,
      enabled: true,
    };
    await query(
      env,
      `INSERT INTO jobs (id, namespace, runbook_id, content, enabled, scheduled_since, created_by) VALUES ($1, 'jobs', 'jobs.quick', $2, true, $3, 'test')`,
      [id, content, new Date(lastFire.getTime() - 3600_000)],
    );
    await query(
      env,
      `INSERT INTO job_fires (job_id, fire_time, kind, outcome, claimed_by) VALUES ($1, $2, 'schedule', 'started', 'gone')`,
      [id, lastFire],
    );
    return lastFire;
  }

  it('records the missed fire times as one skip (skip) or runs once for them all (runOnce) when a portal starts', async () => {
    const lastFire = await insertStaleJob('jobs.stale-skip', 'skip');
    await insertStaleJob('jobs.stale-once', 'runOnce');
    const portal = await startPortal(env);
    try {
      await sleep(1500);
      const skipped = (await firesOf(env, 'jobs.stale-skip')).filter((f) => f.kind === 'misfire');
      expect(skipped).toEqual([
        expect.objectContaining({
          fire_time: new Date(lastFire.getTime() + 60_000),
          outcome: 'skipped',
          reason: expect.stringMatching(/^skipped (9|10) fire time\(s\) missed/),
        }),
      ]);
      const audit = await portal.request('GET', '/api/v1/audit?action=job.misfire.skipped&actor=jobs.stale-skip');
      expect(audit.body.items).toHaveLength(1);

      const once = (await firesOf(env, 'jobs.stale-once')).filter((f) => f.kind === 'misfire');
      expect(once).toEqual([
        expect.objectContaining({ outcome: 'started', reason: expect.stringMatching(/^runs once for (9|10) fire time\(s\) missed/) }),
      ]);
      // The job fires every minute: when the test crosses a minute, that ordinary fire runs too; it is not a misfire.
      const ordinary = (await firesOf(env, 'jobs.stale-once')).filter((f) => f.kind === 'schedule').map((f) => f.execution_id);
      const executions = (await portal.request('GET', '/api/v1/executions?job=jobs.stale-once')).body;
      expect(executions.map((e: { id: string }) => e.id).filter((id: string) => !ordinary.includes(id))).toEqual([once[0].execution_id]);
    } finally {
      await portal.close();
    }
    // A second start finds nothing more owed: the misfire row covers the stretch.
    const again = await startPortal(env);
    await sleep(1000);
    await again.close();
    expect((await firesOf(env, 'jobs.stale-skip')).filter((f) => f.kind === 'misfire')).toHaveLength(1);
    expect((await firesOf(env, 'jobs.stale-once')).filter((f) => f.kind === 'misfire')).toHaveLength(1);
  });
});
