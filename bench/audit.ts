/**
 * The audit log's figures: what awaiting `AuditService.record()` costs a request (one at a time, and with many
 * requests recording at once), how fast the export streams, and how fast the chain is verified.
 */
import { Client } from 'pg';
import { AuditService } from '../portal/api/src/audit/audit.service';
import type { Portal, TestEnv } from '../portal/api/test/harness';

const RECORDS = Number(process.env.BENCH_AUDIT_RECORDS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_AUDIT_CONCURRENCY ?? 32);
const EXPORT_EVENTS = Number(process.env.BENCH_AUDIT_EXPORT_EVENTS ?? 200_000);

export async function measureAudit(portal: Portal, env: TestEnv) {
  const audit = portal.app.get(AuditService);
  const event = (i: number) => ({
    actor: { type: 'user' as const, name: 'bench' },
    action: 'bench.record',
    target: `runbook:bench.noop`,
    details: { status: 201, params: { id: 'bench.noop' }, body: { params: { i } } },
    source: '127.0.0.1',
  });

  for (let i = 0; i < 200; i++) await audit.record(event(i)); // warm-up: JIT, pool, plans
  const alone: number[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const started = performance.now();
    await audit.record(event(i));
    alone.push(performance.now() - started);
  }

  const loaded: number[] = [];
  const loadStarted = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      for (let i = 0; i < RECORDS / 4; i++) {
        const started = performance.now();
        await audit.record(event(worker * RECORDS + i));
        loaded.push(performance.now() - started);
      }
    }),
  );
  const recordsPerSec = Math.round(loaded.length / ((performance.now() - loadStarted) / 1000));

  const db = new Client({ connectionString: env.databaseUrl });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO audit_events (actor_type, actor, action, target, details, source)
       SELECT 'user', 'bench', 'bench.export', 'runbook:bench.noop',
              jsonb_build_object('status', 201, 'params', jsonb_build_object('id', 'bench.noop'), 'body', jsonb_build_object('i', i)),
              '10.0.0.' || (i % 250)
         FROM generate_series(1, $1::int) AS i`,
      [EXPORT_EVENTS],
    );
  } finally {
    await db.end();
  }
  const jsonl = await timeExport(portal, 'jsonl');
  const csv = await timeExport(portal, 'csv');
  const verifyStarted = performance.now();
  const verify = await portal.request('GET', '/api/v1/audit/verify');
  if (!verify.body.ok) throw new Error(`audit chain broken: ${verify.text}`);
  const verifyEventsPerSec = Math.round(verify.body.checked / ((performance.now() - verifyStarted) / 1000));

  return {
    recordP50Ms: percentile(alone, 50),
    recordP99Ms: percentile(alone, 99),
    recordSamples: alone.length,
    loadedConcurrency: CONCURRENCY,
    recordLoadedP50Ms: percentile(loaded, 50),
    recordLoadedP99Ms: percentile(loaded, 99),
    recordsPerSec,
    exportEvents: jsonl.events,
    exportEventsPerSec: jsonl.eventsPerSec,
    exportMegabytesPerSec: jsonl.megabytesPerSec,
    exportCsvEventsPerSec: csv.eventsPerSec,
    verifyEventsPerSec,
  };
}

/** Streams the export of every bench.export event and counts the lines as they arrive. */
async function timeExport(portal: Portal, format: 'jsonl' | 'csv') {
  const started = performance.now();
  const res = await fetch(`${portal.url}/api/v1/audit/export?format=${format}&action=bench.export`, {
    headers: { authorization: `Bearer ${portal.token}` },
  });
  if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
  let newlines = 0;
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
  }
  const seconds = (performance.now() - started) / 1000;
  const events = format === 'csv' ? newlines - 1 : newlines;
  if (events !== EXPORT_EVENTS) throw new Error(`export (${format}) gave ${events} events, expected ${EXPORT_EVENTS}`);
  return { events, eventsPerSec: Math.round(events / seconds), megabytesPerSec: Math.round(bytes / 1e6 / seconds) };
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return Math.round(value * 1000) / 1000;
}
