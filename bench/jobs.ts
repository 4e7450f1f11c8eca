/**
 * Scheduler lateness: many jobs with 6-field cron expressions spread over each minute (1,000 jobs by default, so
 * 1,000 fires a minute, about 17 a second), a trivial runbook on the portal's local node. Lateness is the
 * execution's start minus its fire time, read back from the stored executions (the same difference the
 * `baton_job_lateness_seconds` histogram observes). Duplicate fires would show as more executions than fires.
 */
import { Client } from 'pg';
import type { Portal, TestEnv } from '../portal/api/test/harness';
import { sleep } from '../portal/api/test/harness';

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const DURATION_MS = Number(process.env.BENCH_JOBS_SECONDS ?? 70) * 1000;

export async function measureJobs(_portal: Portal, env: TestEnv) {
  const db = new Client({ connectionString: env.databaseUrl });
  await db.connect();
  try {
    const ids = Array.from({ length: JOBS }, (_, i) => `bench.job-${String(i).padStart(4, '0')}`);
    const contents = ids.map((id, i) => ({
      apiVersion: 'baton/v1',
      kind: 'Job',
      id,
      runbook: 'bench.noop',
      targets: { local: true },
      schedule: { cron: `${i % 60} * * * * *`, timezone: 'UTC' },
      concurrency: 'allow',
      misfire: 'skip',
      enabled: true,
    }));
    // Straight into the table: 1,000 API calls would measure the API, not the scheduler. Replicas see new jobs within a second.
    await db.query(
      `INSERT INTO jobs (id, namespace, runbook_id, content, enabled, created_by)
       SELECT id, 'bench', 'bench.noop', content, true, 'bench' FROM unnest($1::text[], $2::jsonb[]) AS j(id, content)`,
      [ids, contents.map((c) => JSON.stringify(c))],
    );
    // Measured from 10 s on: the first seconds include every replica reading and entering 1,000 new jobs at once.
    const from = new Date(Date.now() + 10_000);
    await sleep(10_000 + DURATION_MS);
    const until = new Date(from.getTime() + DURATION_MS - 5000);
    await db.query(`UPDATE jobs SET enabled = false, updated_at = now()`);
    await sleep(3000);

    const fires = await db.query(
      `SELECT count(*)::int AS fires, count(*) FILTER (WHERE outcome = 'started')::int AS started
         FROM job_fires WHERE fire_time >= $1 AND fire_time < $2`,
      [from, until],
    );
    const rows = await db.query(
      `SELECT extract(epoch FROM started_at - (trigger->>'fireTime')::timestamptz) * 1000 AS ms
         FROM executions WHERE trigger->>'type' = 'schedule' AND (trigger->>'fireTime')::timestamptz >= $1
          AND (trigger->>'fireTime')::timestamptz < $2`,
      [from, until],
    );
    const dupes = await db.query(
      `SELECT count(*)::int AS n FROM (SELECT trigger->>'job', trigger->>'fireTime' FROM executions
         WHERE trigger->>'type' = 'schedule' GROUP BY 1, 2 HAVING count(*) > 1) d`,
    );
    const samples = rows.rows.map((r: { ms: string }) => Number(r.ms)).sort((a: number, b: number) => a - b);
    const pct = (p: number) => Math.round(samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))] * 100) / 100;
    const windowMinutes = (until.getTime() - from.getTime()) / 60_000;
    return {
      jobs: JOBS,
      fires: fires.rows[0].fires,
      started: fires.rows[0].started,
      duplicateFires: dupes.rows[0].n,
      firesPerMinute: Math.round(fires.rows[0].fires / windowMinutes),
      latenessP50Ms: pct(50),
      latenessP99Ms: pct(99),
      latenessMaxMs: pct(100),
    };
  } finally {
    await db.end();
  }
}
