/**
 * The watchdog against runs that move while it looks: it must never end a healthy node run on a stale view (issue
 * 15, item 1), and a run's timestamps must read in order (item 8). The races are forced, not hoped for: the test
 * stops the portal's own watchdog timer and runs watchdog rounds itself at the exact point of interest, holding the
 * run there with a spy. A portal without NATS on real PostgreSQL; runs go to the `local` node.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { DispatchService } from '../src/dispatch/dispatch.service';
import { LocalTransport } from '../src/dispatch/local.transport';
import { ReplicaService } from '../src/core/replica.service';
import { ExecutionsService } from '../src/executions/executions.service';
import { createTestEnv, destroyTestEnv, sleep, startPortal, type Portal, type TestEnv } from './harness';

jest.setTimeout(60_000);

/** The private parts of the dispatcher this test drives: one watchdog round, and the timer that runs them. */
type Watchdog = { checkLiveRuns(): Promise<void>; watchdog?: NodeJS.Timeout };

let env: TestEnv;
let portal: Portal;
let executions: ExecutionsService;
let local: LocalTransport;
let db: DataSource;
let watchdog: Watchdog;

beforeAll(async () => {
  env = await createTestEnv(join(__dirname, 'runbooks'));
  portal = await startPortal(env, { NATS_URL: '' });
  executions = portal.app.get(ExecutionsService);
  local = portal.app.get(LocalTransport);
  db = portal.app.get(DataSource);
  watchdog = portal.app.get(DispatchService) as unknown as Watchdog;
  // Every watchdog round in this file is one the test runs, at a point it chose.
  clearInterval(watchdog.watchdog);
});

afterEach(() => jest.restoreAllMocks());

afterAll(async () => {
  await portal?.close();
  if (env) await destroyTestEnv(env);
});

/**
 * A run stored straight in the database, started by this replica as if by an orchestrator that is gone: nothing
 * will dispatch it (it is not queued, so the dispatch queue leaves it alone too).
 */
async function abandonedRun(): Promise<{ executionId: string; nodeRunId: string }> {
  const executionId = randomUUID();
  const nodeRunId = randomUUID();
  await db.query(
    `WITH e AS (
       INSERT INTO executions (id, runbook_id, runbook_hash, status, trigger, actor, params, targets, timeout_ms, started_at, driven_by)
       VALUES ($1, 'test.echo', 'none', 'running', '{"type":"user","user":"admin"}', 'admin', '{}', '{"local":true}', 60000, now(), $3)
       RETURNING id)
     INSERT INTO node_runs (id, execution_id, node, executor, position, status) SELECT $2, id, 'local', 'local', 0, 'queued' FROM e`,
    [executionId, nodeRunId, portal.app.get(ReplicaService).id],
  );
  return { executionId, nodeRunId };
}

describe('the watchdog and runs in flight', () => {
  const runEcho = () => portal.run('test.echo', { params: { message: 'in order' }, targets: { local: true } });

  async function nodeRun(nodeRunId: string): Promise<{ status: string; reason: string | null }> {
    const [row] = await db.query(`SELECT status, reason FROM node_runs WHERE id = $1`, [nodeRunId]);
    return row;
  }

  /** The watchdog reads its view of live runs, then `meanwhile` happens, then it decides on that view. */
  function staleView(meanwhile: () => Promise<void>): void {
    const liveNodeRuns = executions.liveNodeRuns.bind(executions);
    jest.spyOn(executions, 'liveNodeRuns').mockImplementationOnce(async () => {
      const view = await liveNodeRuns();
      await meanwhile();
      return view;
    });
  }

  it('leaves alone a run it sees between its creation and its orchestration', async () => {
    const create = executions.create.bind(executions);
    jest.spyOn(executions, 'create').mockImplementationOnce(async (request) => {
      const created = await create(request);
      await watchdog.checkLiveRuns(); // the run is stored, queued, and not claimed by a dispatcher yet
      return created;
    });
    const execution = await portal.waitForEnd(await runEcho());
    expect(execution).toMatchObject({ status: 'succeeded', nodes: [{ node: 'local', status: 'succeeded' }] });
  });

  it('leaves alone a run it sees between its claim and its orchestration', async () => {
    const claim = executions.claimQueued.bind(executions);
    jest.spyOn(executions, 'claimQueued').mockImplementationOnce(async (...args) => {
      const claimed = await claim(...args);
      await watchdog.checkLiveRuns(); // the run is running, driven here, and not handed to its orchestrator yet
      return claimed;
    });
    const execution = await portal.waitForEnd(await runEcho());
    expect(execution).toMatchObject({ status: 'succeeded', nodes: [{ node: 'local', status: 'succeeded' }] });
  });

  it('leaves alone a run it sees while its dispatch is in flight', async () => {
    const dispatch = local.dispatch.bind(local);
    jest.spyOn(local, 'dispatch').mockImplementationOnce(async (order) => {
      await watchdog.checkLiveRuns(); // handed to the node, not acknowledged yet
      return dispatch(order);
    });
    const markDispatched = executions.markDispatched.bind(executions);
    jest.spyOn(executions, 'markDispatched').mockImplementationOnce(async (nodeRunId) => {
      await watchdog.checkLiveRuns(); // acknowledged by the node, not recorded as dispatched yet
      return markDispatched(nodeRunId);
    });
    const execution = await portal.waitForEnd(await runEcho());
    expect(execution).toMatchObject({ status: 'succeeded', nodes: [{ node: 'local', status: 'succeeded' }] });
  });

  it('stops on the node a run cancelled while its dispatch was in flight', async () => {
    const dispatch = local.dispatch.bind(local);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let delivered: Promise<unknown> = Promise.resolve();
    const arrived = new Promise<string>((resolve) =>
      jest.spyOn(local, 'dispatch').mockImplementationOnce(async (order) => {
        resolve(order.nodeRunId);
        await held; // the order is on its way to the node
        delivered = dispatch(order);
        return delivered as ReturnType<typeof dispatch>;
      }),
    );
    const id = await portal.run('test.sleep', { params: { nap_seconds: 30 }, targets: { local: true } });
    const nodeRunId = await arrived;
    expect((await portal.request('POST', `/api/v1/executions/${id}/cancel`)).status).toBe(202);
    expect(await nodeRun(nodeRunId)).toEqual({ status: 'cancelled', reason: 'cancelled before start: cancelled by admin' });
    release();
    await held;
    await delivered; // the node has the order after all, and starts the 30 s nap
    const deadline = Date.now() + 5000;
    while (local.isRunning(nodeRunId)) {
      if (Date.now() > deadline) throw new Error('the cancelled run still runs on the node');
      await sleep(50);
    }
    expect((await portal.waitForEnd(id)).status).toBe('cancelled');
  });

  it('does not cancel a run that was dispatched after it looked', async () => {
    const { nodeRunId } = await abandonedRun();
    staleView(async () => void (await executions.markDispatched(nodeRunId)));
    await watchdog.checkLiveRuns();
    expect(await nodeRun(nodeRunId)).toEqual({ status: 'queued', reason: null });
  });

  it('does not take over a run whose portal replica heartbeats again after it looked', async () => {
    const { nodeRunId, executionId } = await abandonedRun();
    await db.query(`INSERT INTO portal_replicas (id, seen_at) VALUES ('ghost', now() - interval '1 hour')`);
    await db.query(`UPDATE executions SET driven_by = 'ghost' WHERE id = $1`, [executionId]);
    staleView(async () => void (await db.query(`UPDATE portal_replicas SET seen_at = now() WHERE id = 'ghost'`)));
    await watchdog.checkLiveRuns();
    expect(await nodeRun(nodeRunId)).toEqual({ status: 'queued', reason: null });

    await db.query(`UPDATE portal_replicas SET seen_at = now() - interval '1 hour' WHERE id = 'ghost'`);
    await watchdog.checkLiveRuns();
    expect(await nodeRun(nodeRunId)).toEqual({
      status: 'cancelled',
      reason: 'not started: the portal replica driving this execution (ghost) stopped',
    });
  });

  it('still cancels a queued run whose batch really stopped', async () => {
    const { nodeRunId, executionId } = await abandonedRun();
    await watchdog.checkLiveRuns();
    expect(await nodeRun(nodeRunId)).toEqual({ status: 'cancelled', reason: 'not started: the batch stopped' });
    expect((await executions.get(executionId)).status).toBe('failed');
  });

  it('still ends a dispatched local run that stopped without reporting an end', async () => {
    const { nodeRunId } = await abandonedRun();
    await executions.markDispatched(nodeRunId);
    await watchdog.checkLiveRuns();
    expect(await nodeRun(nodeRunId)).toEqual({ status: 'lost', reason: 'the run on the local node stopped without reporting an end' });
  });

  it('still times out a run whose node never reports an end', async () => {
    const { nodeRunId } = await abandonedRun();
    await db.query(`UPDATE node_runs SET dispatched_at = now() - interval '1 hour' WHERE id = $1`, [nodeRunId]);
    await watchdog.checkLiveRuns();
    expect(await nodeRun(nodeRunId)).toEqual({
      status: 'timed_out',
      reason: 'runbook timeout of 60000 ms passed without the node reporting an end',
    });
  });

  it('still ends a run whose cancel the node never confirmed', async () => {
    const { nodeRunId, executionId } = await abandonedRun();
    // Driven by another replica, alive: only the unconfirmed cancel can end it.
    await db.query(`INSERT INTO portal_replicas (id) VALUES ('busy') ON CONFLICT (id) DO UPDATE SET seen_at = now()`);
    await db.query(`UPDATE executions SET driven_by = 'busy', cancel_requested_at = now() - interval '1 minute' WHERE id = $1`, [
      executionId,
    ]);
    await watchdog.checkLiveRuns();
    expect(await nodeRun(nodeRunId)).toEqual({ status: 'cancelled', reason: 'cancel not confirmed by the node in time' });
    expect((await executions.get(executionId)).status).toBe('cancelled');
  });
});

describe('the timeline of a run', () => {
  type Timed = { startedAt: string | null; finishedAt: string | null };
  type Shown = Timed & { nodes: (Timed & { node: string; steps: (Timed & { id: string })[] })[] };

  /** execution start <= node run start <= each step's start <= its end <= node run end <= execution end. */
  function expectNested(execution: Shown): void {
    const pairs: [string, string | null, string, string | null][] = [];
    for (const run of execution.nodes) {
      pairs.push(['execution started', execution.startedAt, `${run.node} started`, run.startedAt]);
      for (const step of run.steps) {
        pairs.push([`${run.node} started`, run.startedAt, `step ${step.id} started`, step.startedAt]);
        pairs.push([`step ${step.id} started`, step.startedAt, `step ${step.id} finished`, step.finishedAt]);
        pairs.push([`step ${step.id} finished`, step.finishedAt, `${run.node} finished`, run.finishedAt]);
      }
      pairs.push([`${run.node} finished`, run.finishedAt, 'execution finished', execution.finishedAt]);
    }
    // One named pair at a time, so that a failure says which two times are out of order and what they are.
    for (const [earlier, earlierAt, later, laterAt] of pairs) {
      const isInOrder = earlierAt !== null && laterAt !== null && Date.parse(earlierAt) <= Date.parse(laterAt);
      expect({ [`${earlier} <= ${later}`]: [earlierAt, laterAt, isInOrder] }).toEqual({
        [`${earlier} <= ${later}`]: [earlierAt, laterAt, true],
      });
    }
  }

  const show = async (id: string): Promise<Shown> => (await portal.request('GET', `/api/v1/executions/${id}`)).body;

  it('reads in order for multi-step runs on the local node', async () => {
    const ids = await Promise.all(
      Array.from({ length: 5 }, () => portal.run('test.echo', { params: { message: 'in order', count: 3 }, targets: { local: true } })),
    );
    for (const id of ids) {
      const execution = await portal.waitForEnd(id);
      expect(execution.status).toBe('succeeded');
      expect(execution.nodes[0].steps.map((s: { id: string }) => s.id)).toEqual(['say', 'confirm']);
      expectNested(execution);
    }
  });

  it.each([
    ['an hour behind', -3_600_000],
    ['an hour ahead', 3_600_000],
  ])('reads in order when the node clock is %s and its events come out of order', async (_, skewMs) => {
    const { executionId, nodeRunId } = await abandonedRun();
    await executions.markDispatched(nodeRunId);
    const at = Date.now() + skewMs;
    const step = { nodeRunId, attempt: 1 };
    const finished = { status: 'succeeded', exitCode: 0, outputs: {} } as const;
    // The node finished before two of its step events were stored, and the start of `confirm` never came.
    const events = [
      { ...step, seq: 0, type: 'step.started', stepId: 'say', at },
      { nodeRunId, seq: 4, type: 'node.finished', status: 'succeeded', at: at + 40 },
      { ...step, ...finished, seq: 3, type: 'step.finished', stepId: 'confirm', at: at + 30 },
      { ...step, ...finished, seq: 1, type: 'step.finished', stepId: 'say', at: at + 10 },
    ] as const;
    await executions.applyEvents(events.map((event) => ({ event, node: 'local' })));
    const execution = await show(executionId);
    expect(execution).toMatchObject({ status: 'succeeded', nodes: [{ status: 'succeeded' }] });
    expect(execution.nodes[0].steps.map((s) => s.id).sort()).toEqual(['confirm', 'say']);
    expectNested(execution);
  });
});
