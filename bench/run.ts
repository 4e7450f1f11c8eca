/**
 * `npm run bench`: end-to-end dispatch latency (API request -> execution stored as succeeded) on one agent,
 * fan-out of one step to a swarm of 200 agents, and the audit log (cost of recording an event, export rate), on
 * the real NATS and PostgreSQL. Prints a table and writes bench/results/latest.json.
 *
 * `npm run bench -- ssh`: `uptime` on 50 SSH nodes, side by side with parallel-ssh and Ansible (bench/ssh.ts).
 *
 * `npm run bench -- audit` (or `dispatch`, `enroll`, `jobs`, `ssh`) runs one part; the figures of the other parts in
 * latest.json are kept. `jobs` measures scheduler lateness with 1,000 jobs spread over each minute (see bench/jobs.ts).
 * `enroll` times 200 swarm agents enrolling with one autoAccept token up to a step run on all of them (bench/enroll.ts).
 * Swarm agents enroll like real ones; the dispatch portal accepts them without a token (BATON_AUTO_ACCEPT, as in tests).
 */
import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { ExecutionsService } from '../portal/api/src/executions/executions.service';
import { measureAudit } from './audit';
import { measureEnroll } from './enroll';
import { measureJobs } from './jobs';
import { whyNotSucceeded } from './outcome';
import { measureSsh } from './ssh';
import { measureRate } from './throughput';
import { startSwarm, swarmNames, type Swarm } from './swarm-process';
import { createTestEnv, destroyTestEnv, startPortal, type Portal } from '../portal/api/test/harness';

const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 300);
const FANOUT_NODES = Number(process.env.BENCH_FANOUT_NODES ?? 200);

/**
 * A portal for a swarm of 200 agents, with the portal's default ack timeout (3 s; the test harness shortens it to
 * 1.5 s). BENCH_DISPATCH_TIMEOUT_MS raises it on a loaded machine, where the swarm (200 agents on one event loop)
 * acknowledges late and the run would end failed before its wall time could be read.
 */
const SWARM_PORTAL_ENV = {
  BATON_LOG_LEVEL: 'error',
  BATON_HEARTBEAT_MS: '2000',
  BATON_DISPATCH_TIMEOUT_MS: process.env.BENCH_DISPATCH_TIMEOUT_MS ?? '3000',
};

const PARTS = ['dispatch', 'enroll', 'throughput', 'audit', 'jobs', 'ssh'] as const;
const RESULTS_FILE = join(__dirname, 'results', 'latest.json');

async function main(): Promise<void> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(PARTS as readonly string[]).includes(a));
  if (unknown.length) throw new Error(`unknown bench part(s) ${unknown.join(', ')}; choose from ${PARTS.join(', ')}`);
  const parts = asked.length ? asked : [...PARTS];
  const results: Record<string, unknown> = existsSync(RESULTS_FILE) ? JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) : {};
  results.date = new Date().toISOString();
  // The machine is often shared: the load average when the run began says how quiet it was.
  results.machine = { cpus: cpus().length, node: process.version, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) };
  if (parts.includes('dispatch')) Object.assign(results, await benchDispatch());
  if (parts.includes('enroll')) Object.assign(results, await benchEnroll());
  if (parts.includes('audit')) Object.assign(results, await benchAudit());
  if (parts.includes('jobs')) Object.assign(results, await benchJobs());
  if (parts.includes('ssh')) Object.assign(results, await benchSsh());
  if (parts.includes('throughput')) Object.assign(results, await benchThroughput());
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + '\n');
}

async function benchDispatch() {
  const env = await createTestEnv(join(__dirname, 'runbooks'));
  const portal = await startPortal(env, SWARM_PORTAL_ENV);
  const executions = portal.app.get(ExecutionsService);
  const swarms: Swarm[] = [];
  try {
    swarms.push(startSwarm(portal.url, 1, 'bench=latency', { namePrefix: 'latency' }));
    await swarms[0].ready;
    const latency = await measureLatency(portal, executions);
    // Enrolling is not what this part times (`enroll` does): ten at a time keep a burst of enrollments from taking
    // every connection of the portal's database pool.
    swarms.push(startSwarm(portal.url, FANOUT_NODES, 'bench=fanout', { namePrefix: 'fanout', enrollConcurrency: 10 }));
    await swarms[1].ready;
    const fanout = await measureFanout(portal, executions);
    console.table({
      'latency p50 (ms)': latency.p50Ms,
      'latency p99 (ms)': latency.p99Ms,
      'latency runs': latency.runs,
      'fan-out nodes': fanout.nodes,
      'fan-out wall (ms)': fanout.wallMs,
    });
    return { latency, fanout };
  } finally {
    for (const swarm of swarms) swarm.child.kill('SIGTERM');
    await portal.close();
    await destroyTestEnv(env);
  }
}

async function benchEnroll() {
  const env = await createTestEnv(join(__dirname, 'runbooks'));
  // Only the token admits agents here, as on a real portal.
  const portal = await startPortal(env, { ...SWARM_PORTAL_ENV, BATON_AUTO_ACCEPT: 'false' });
  try {
    const enroll = await measureEnroll(portal, waitForFinish);
    console.table({
      'agents enrolled': enroll.nodes,
      'swarm start -> all online (ms)': enroll.registeredMs,
      'swarm start -> fan-out run finished (ms)': enroll.fanoutFinishedMs,
      'fan-out run alone (ms)': enroll.fanoutRunMs,
      'swarm: modules loaded (ms)': enroll.swarm.loadedMs,
      'swarm: all credentials received (ms)': enroll.swarm.acceptedMs,
      'swarm: all registered (ms)': enroll.swarm.readyMs,
      'swarm RSS (MB), peak': `${enroll.rssMb}, ${enroll.peakRssMb}`,
      'swarm CPU time (ms)': enroll.cpuMs,
    });
    return { enroll };
  } finally {
    // A portal stuck on its database pool must not hang the bench: dropping the database ends its connections.
    await Promise.race([portal.close(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    await destroyTestEnv(env);
  }
}

async function benchAudit() {
  const env = await createTestEnv(join(__dirname, 'runbooks'));
  const portal = await startPortal(env, { BATON_LOG_LEVEL: 'error' });
  try {
    const audit = await measureAudit(portal, env);
    console.table({
      'audit record p50 (ms), one at a time': audit.recordP50Ms,
      'audit record p99 (ms), one at a time': audit.recordP99Ms,
      [`audit record p50 (ms), ${audit.loadedConcurrency} concurrent`]: audit.recordLoadedP50Ms,
      'audit records/s under load': audit.recordsPerSec,
      'audit export (events/s, jsonl)': audit.exportEventsPerSec,
      'audit export (events/s, csv)': audit.exportCsvEventsPerSec,
      'audit verify (events/s)': audit.verifyEventsPerSec,
    });
    return { audit };
  } finally {
    await portal.close();
    await destroyTestEnv(env);
  }
}

async function benchJobs() {
  const env = await createTestEnv(join(__dirname, 'runbooks'));
  const portal = await startPortal(env, { BATON_LOG_LEVEL: 'error' });
  try {
    const jobs = await measureJobs(portal, env);
    console.table({
      'jobs scheduled': jobs.jobs,
      'fires per minute': jobs.firesPerMinute,
      'fires started': `${jobs.started} of ${jobs.fires}`,
      'duplicate fires': jobs.duplicateFires,
      'lateness p50 (ms)': jobs.latenessP50Ms,
      'lateness p99 (ms)': jobs.latenessP99Ms,
      'lateness max (ms)': jobs.latenessMaxMs,
    });
    return { jobs };
  } finally {
    await portal.close();
    await destroyTestEnv(env);
  }
}

/**
 * Open-loop load at fixed rates from its own process (bench/load-generator.ts) on one agent: accepted, 429s, failed,
 * API and createdAt -> finishedAt percentiles and the portal's RSS per rate (bench/throughput.ts).
 */
async function benchThroughput() {
  const env = await createTestEnv(join(__dirname, 'runbooks'));
  const portal = await startPortal(env, { ...SWARM_PORTAL_ENV, BATON_QUEUE_LIMIT: process.env.BENCH_QUEUE_LIMIT ?? '300' });
  const swarm = startSwarm(portal.url, 1, 'bench=latency', { namePrefix: 'latency' });
  try {
    await swarm.ready;
    await portal.waitForNodes(swarmNames('latency', 1), 30_000);
    const seconds = Number(process.env.BENCH_THROUGHPUT_SECONDS ?? 30);
    const rates = (process.env.BENCH_RATES ?? '25,50,100,150,200,300').split(',').map(Number);
    await measureRate(portal, 20, 5); // warm-up: caches, JIT, connection pools
    const perRate = [];
    for (const rate of rates) {
      const result = await measureRate(portal, rate, seconds);
      perRate.push(result);
      console.log(JSON.stringify(result));
    }
    console.table(
      perRate.map((r) => ({
        'rate/s': r.rate,
        sent: r.sent,
        accepted: r.accepted,
        '429': r.refused429,
        failed: r.failed,
        'API 201 p50/p99 ms': `${r.api201.p50Ms} / ${r.api201.p99Ms}`,
        'created->finished p50/p99 ms': `${r.createdToFinished.p50Ms} / ${r.createdToFinished.p99Ms}`,
        'RSS MB': r.portalRssMb,
      })),
    );
    return { throughput: { seconds, rates: perRate } };
  } finally {
    swarm.child.kill('SIGTERM');
    await portal.close();
    await destroyTestEnv(env);
  }
}

async function benchSsh() {
  const env = await createTestEnv(join(__dirname, 'runbooks'));
  const portal = await startPortal(env, { BATON_LOG_LEVEL: 'error' });
  try {
    const ssh = await measureSsh(portal, waitForFinish);
    console.table({
      'ssh nodes': ssh.nodes,
      'baton (ms, API -> all results stored)': ssh.batonMs,
      'parallel-ssh (ms)': ssh.psshMs,
      'ansible (ms)': ssh.ansibleMs,
      'baton / pssh': ssh.batonVsPssh,
      'ansible / baton': ssh.ansibleVsBaton,
    });
    return { ssh };
  } finally {
    await portal.close();
    await destroyTestEnv(env);
  }
}

/** Time from the POST to the moment the portal has stored the execution as succeeded. */
async function measureLatency(portal: Portal, executions: ExecutionsService) {
  await portal.waitForNodes(swarmNames('latency', 1), 30_000);
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_RUNS + 20; i++) {
    const started = performance.now();
    const finished = waitForFinish(executions);
    const id = await portal.run('bench.noop', {});
    const status = await finished(id);
    if (status !== 'succeeded') throw new Error(await whyNotSucceeded(portal, id, status));
    if (i >= 20) samples.push(performance.now() - started); // the first runs warm up caches and JIT
  }
  samples.sort((a, b) => a - b);
  const pct = (p: number) => round(samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]);
  return { runs: samples.length, p50Ms: pct(50), p90Ms: pct(90), p99Ms: pct(99), maxMs: round(samples.at(-1)!) };
}

async function measureFanout(portal: Portal, executions: ExecutionsService) {
  await portal.waitForNodes(swarmNames('fanout', FANOUT_NODES), 120_000);
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const finished = waitForFinish(executions);
    const id = await portal.run('bench.noop', { targets: { labels: { bench: 'fanout' } } });
    const status = await finished(id);
    if (status !== 'succeeded') throw new Error(await whyNotSucceeded(portal, id, status));
    const execution = await portal.request('GET', `/api/v1/executions/${id}`);
    const succeeded = execution.body.nodes.filter((n: { status: string }) => n.status === 'succeeded').length;
    if (succeeded !== FANOUT_NODES) throw new Error(`fan-out: ${succeeded} of ${FANOUT_NODES} nodes succeeded`);
    runs.push(performance.now() - started);
  }
  return { nodes: FANOUT_NODES, wallMs: round(Math.min(...runs)), runsMs: runs.map(round) };
}

/** Subscribes before the run starts, so a fast execution cannot finish unseen. */
function waitForFinish(executions: ExecutionsService): (id: string) => Promise<string> {
  const seen = new Map<string, string>();
  const waiters = new Map<string, (status: string) => void>();
  const listener = ({ executionId, status }: { executionId: string; status: string }) => {
    seen.set(executionId, status);
    waiters.get(executionId)?.(status);
  };
  executions.events.on('executionFinished', listener);
  return (id) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`execution ${id} did not finish in 60 s`)), 60_000);
      const done = (status: string) => {
        clearTimeout(timer);
        executions.events.off('executionFinished', listener);
        resolve(status);
      };
      if (seen.has(id)) done(seen.get(id)!);
      else waiters.set(id, done);
    });
}

export function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
