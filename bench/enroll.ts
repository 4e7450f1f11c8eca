/**
 * The enrollment part of `npm run bench`: ENROLL_NODES swarm agents in one process, each with its own keys, enroll
 * with one autoAccept token, receive their credentials, connect and register; then one execution runs one step on
 * all of them. Wall times count from the moment the swarm process is spawned (its own start-up included), on a
 * portal that accepts no agent without a token.
 */
import { ExecutionsService } from '../portal/api/src/executions/executions.service';
import type { Portal } from '../portal/api/test/harness';
import { whyNotSucceeded } from './outcome';
import { startSwarm, swarmUsage, swarmNames } from './swarm-process';

export const ENROLL_NODES = Number(process.env.BENCH_ENROLL_NODES ?? 200);
/** All agents enroll at once unless this limits how many may at the same time. */
const ENROLL_CONCURRENCY = Number(process.env.BENCH_ENROLL_CONCURRENCY) || undefined;
const NAME_PREFIX = 'enroll';
/** Generous: on a loaded machine the figure is still worth reading, whatever the goal. */
const REGISTER_TIMEOUT_MS = 180_000;

export async function measureEnroll(portal: Portal, waitForFinish: (e: ExecutionsService) => (id: string) => Promise<string>) {
  const created = await portal.request('POST', '/api/v1/enrollment-tokens', { expiresIn: '1h', maxUses: ENROLL_NODES, autoAccept: true });
  if (created.status !== 201) throw new Error(`could not create an enrollment token: ${created.status} ${created.text}`);
  const executions = portal.app.get(ExecutionsService);

  const startedAt = performance.now();
  const swarm = startSwarm(portal.url, ENROLL_NODES, 'bench=enroll', {
    token: created.body.token,
    namePrefix: NAME_PREFIX,
    enrollConcurrency: ENROLL_CONCURRENCY,
  });
  try {
    // Registered as the portal sees it, watched while the swarm enrolls; a swarm that dies ends the wait at once.
    const swarmDied = new Promise<never>((_, reject) => swarm.ready.catch(reject));
    await Promise.race([portal.waitForNodes(swarmNames(NAME_PREFIX, ENROLL_NODES), REGISTER_TIMEOUT_MS), swarmDied]);
    const registeredMs = performance.now() - startedAt;
    const timing = await swarm.ready;

    const runStartedAt = performance.now();
    const finished = waitForFinish(executions);
    const id = await portal.run('bench.noop', { targets: { labels: { bench: 'enroll' } } });
    const status = await finished(id);
    if (status !== 'succeeded') throw new Error(await whyNotSucceeded(portal, id, status));
    const fanoutFinishedMs = performance.now() - startedAt;
    const fanoutRunMs = performance.now() - runStartedAt;
    await checkEveryNodeRan(portal, id);
    await checkAdmittedByToken(portal);

    return {
      nodes: ENROLL_NODES,
      enrollConcurrency: ENROLL_CONCURRENCY ?? 'all at once',
      registeredMs: round(registeredMs),
      fanoutFinishedMs: round(fanoutFinishedMs),
      fanoutRunMs: round(fanoutRunMs),
      swarm: timing,
      ...swarmUsage(swarm.child),
    };
  } finally {
    swarm.child.kill('SIGTERM');
  }
}

async function checkEveryNodeRan(portal: Portal, executionId: string): Promise<void> {
  const execution = await portal.request('GET', `/api/v1/executions/${executionId}`);
  const succeeded = execution.body.nodes.filter((n: { status: string }) => n.status === 'succeeded').length;
  if (succeeded !== ENROLL_NODES) throw new Error(`fan-out: ${succeeded} of ${ENROLL_NODES} nodes succeeded`);
}

/** Every swarm agent was accepted by the token, not by some auto-accept left on. */
async function checkAdmittedByToken(portal: Portal): Promise<void> {
  const agents = (await portal.request('GET', '/api/v1/agents')).body as { name: string; status: string; decidedBy: string | null }[];
  const byToken = agents.filter(
    (a) => a.name.startsWith(`${NAME_PREFIX}-`) && a.status === 'accepted' && a.decidedBy?.startsWith('token:'),
  );
  if (byToken.length !== ENROLL_NODES) throw new Error(`enrollment: ${byToken.length} of ${ENROLL_NODES} agents accepted by the token`);
}

function round(ms: number): number {
  return Math.round(ms);
}
