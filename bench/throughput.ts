/**
 * `npm run bench -- throughput`: open-loop run requests from a separate process (bench/load-generator.ts) at fixed
 * rates against a portal on real PostgreSQL and NATS with one agent, the one-step bench.noop runbook. Per rate:
 * sent, accepted (201), refused (429), failed runs, API 201 latency p50/p99, each accepted execution's stored
 * createdAt -> finishedAt p50/p99 (read back from the database once all ended), and the portal's RSS.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { Portal } from '../portal/api/test/harness';

const ROOT = join(__dirname, '..');

export interface RateResult {
  rate: number;
  seconds: number;
  sent: number;
  accepted: number;
  refused429: number;
  otherStatuses: Record<string, number>;
  failed: number;
  notFinished: number;
  api201: { p50Ms: number; p99Ms: number };
  createdToFinished: { p50Ms: number; p99Ms: number; maxMs: number };
  portalRssMb: number;
}

export async function measureRate(portal: Portal, rate: number, seconds: number): Promise<RateResult> {
  const load = await runGenerator(portal, rate, seconds);
  const db = portal.app.get(DataSource);
  const ends = await waitForEnds(db, load.ids, 120_000);
  const durations = ends.filter((e) => e.finishedMs !== null).map((e) => e.finishedMs! - e.createdMs);
  const { 201: accepted = 0, 429: refused429 = 0, ...otherStatuses } = load.statuses;
  return {
    rate,
    seconds,
    sent: load.sent,
    accepted,
    refused429,
    otherStatuses,
    failed: ends.filter((e) => e.status !== 'succeeded' && e.finishedMs !== null).length,
    notFinished: ends.filter((e) => e.finishedMs === null).length,
    api201: { p50Ms: pct(load.latencies201, 50), p99Ms: pct(load.latencies201, 99) },
    createdToFinished: { p50Ms: pct(durations, 50), p99Ms: pct(durations, 99), maxMs: pct(durations, 100) },
    portalRssMb: Math.round(process.memoryUsage().rss / 1e6),
  };
}

interface LoadOutput {
  sent: number;
  statuses: Record<string, number>;
  latencies201: number[];
  ids: string[];
}

function runGenerator(portal: Portal, rate: number, seconds: number): Promise<LoadOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        join(ROOT, 'scripts/register.js'),
        join(__dirname, 'load-generator.ts'),
        portal.url,
        portal.token,
        'bench.noop',
        String(rate),
        String(seconds),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadOutput) : reject(new Error(`load generator exited ${code}`))));
  });
}

/** Polls until every accepted execution has ended (or the deadline passes), then reads its stored times. */
async function waitForEnds(db: DataSource, ids: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [{ live }] = await db.query(`SELECT count(*)::int AS live FROM executions WHERE id = ANY($1) AND finished_at IS NULL`, [ids]);
    if (live === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const rows: { status: string; createdMs: number; finishedMs: number | null }[] = await db.query(
    `SELECT status, extract(epoch FROM created_at) * 1000 AS "createdMs", extract(epoch FROM finished_at) * 1000 AS "finishedMs"
       FROM executions WHERE id = ANY($1)`,
    [ids],
  );
  return rows.map((r) => ({ ...r, createdMs: Number(r.createdMs), finishedMs: r.finishedMs === null ? null : Number(r.finishedMs) }));
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
}
