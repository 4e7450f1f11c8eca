import { readFileSync } from 'node:fs';
import type { NodeEvent, NodePlan, PlanStep } from '../protocol/messages';
import { NodeRunExecutor } from './node-run';

function plan(steps: PlanStep[], extra: Partial<NodePlan> = {}): NodePlan {
  return { steps, onFailure: [], env: {}, secrets: [], ...extra };
}

async function execute(p: NodePlan, whileRunning?: (executor: NodeRunExecutor) => void) {
  const events: NodeEvent[] = [];
  const executor = new NodeRunExecutor({ nodeRunId: 'nr-1', plan: p, emit: (e) => events.push(e) });
  const done = executor.run();
  whileRunning?.(executor);
  const outcome = await done;
  const finished = (id: string) => events.filter((e) => e.type === 'step.finished' && e.stepId === id);
  const log = events.map((e) => (e.type === 'step.log' ? e.data : '')).join('');
  return { outcome, events, finished, log };
}

/** A killed process may linger as a zombie until init reaps it; that counts as dead. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('NodeRunExecutor', () => {
  it('passes parameters only as environment variables and never as command text', async () => {
    const { outcome, log } = await execute(
      plan([{ id: 'a', run: 'printf "%s" "$REASON"' }], { env: { REASON: '$(touch /tmp/pwned); `id`; echo hi' } }),
    );
    expect(outcome).toBe('succeeded');
    expect(log).toBe('$(touch /tmp/pwned); `id`; echo hi');
  });

  it('hands outputs of a step to the steps that need it', async () => {
    const { outcome, finished, log } = await execute(
      plan([
        { id: 'make', run: 'echo "greeting=hello there" >> "$BATON_OUTPUT"' },
        { id: 'use', needs: ['make'], run: 'echo "got $STEP_MAKE_GREETING"' },
      ]),
    );
    expect(outcome).toBe('succeeded');
    expect(finished('make')[0]).toMatchObject({ status: 'succeeded', outputs: { greeting: 'hello there' } });
    expect(log).toContain('got hello there');
  });

  it('runs independent steps in parallel', async () => {
    const started = Date.now();
    const { outcome } = await execute(
      plan([
        { id: 'a', run: 'sleep 0.4' },
        { id: 'b', run: 'sleep 0.4' },
        { id: 'c', run: 'sleep 0.4' },
      ]),
    );
    expect(outcome).toBe('succeeded');
    expect(Date.now() - started).toBeLessThan(1100);
  });

  it('retries a failing step and succeeds on a later attempt', async () => {
    const { outcome, finished } = await execute(
      plan([
        {
          id: 'flaky',
          run: 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; [ "$n" -ge 2 ]',
          retry: { attempts: 3, backoff: '10ms' },
        },
      ]),
    );
    expect(outcome).toBe('succeeded');
    expect(finished('flaky').map((e) => (e as { status: string }).status)).toEqual(['failed', 'failed', 'succeeded']);
  });

  it('skips steps whose needs failed and runs onFailure steps', async () => {
    const { outcome, finished, log } = await execute(
      plan(
        [
          { id: 'bad', run: 'exit 3' },
          { id: 'after', needs: ['bad'], run: 'echo never' },
          { id: 'after2', needs: ['after'], run: 'echo never' },
        ],
        {
          onFailure: [{ id: 'cleanup', run: 'echo "cleaning up after $BATON_FAILED_STEPS"' }],
        },
      ),
    );
    expect(outcome).toBe('failed');
    expect(finished('bad')[0]).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(finished('after')[0]).toMatchObject({ status: 'skipped' });
    expect(finished('after2')[0]).toMatchObject({ status: 'skipped' });
    expect(log).toContain('cleaning up after bad');
    expect(log).not.toContain('never');
  });

  it('kills the whole process group when a step times out', async () => {
    const { outcome, finished, log } = await execute(plan([{ id: 'slow', run: 'sleep 30 & echo "child=$!"; wait', timeout: '300ms' }]));
    expect(outcome).toBe('failed');
    expect(finished('slow')[0]).toMatchObject({ status: 'timed_out' });
    const pid = Number(/child=(\d+)/.exec(log)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
  });

  it('stops at the runbook timeout', async () => {
    const { outcome, events } = await execute(plan([{ id: 'slow', run: 'sleep 30' }], { timeoutMs: 300 }));
    expect(outcome).toBe('timed_out');
    expect(events.at(-1)).toMatchObject({ type: 'node.finished', status: 'timed_out' });
  });

  it('cancels running steps and skips the rest', async () => {
    const started = Date.now();
    const { outcome, finished } = await execute(
      plan([
        { id: 'long', run: 'sleep 30' },
        { id: 'next', needs: ['long'], run: 'echo no' },
      ]),
      (executor) => setTimeout(() => executor.cancel('operator pressed cancel'), 200),
    );
    expect(outcome).toBe('cancelled');
    expect(finished('long')[0]).toMatchObject({ status: 'cancelled', error: 'operator pressed cancel' });
    expect(finished('next')[0]).toMatchObject({ status: 'skipped' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('numbers events in order and streams stdout and stderr separately', async () => {
    const { events } = await execute(plan([{ id: 'io', run: 'echo out; echo err >&2' }]));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    const streams = events.filter((e) => e.type === 'step.log').map((e) => (e as { stream: string }).stream);
    expect(streams).toEqual(expect.arrayContaining(['stdout', 'stderr']));
  });
});

describe('NodeRunExecutor onFailure steps', () => {
  it('run after a cancel and can themselves be cancelled', async () => {
    const events: NodeEvent[] = [];
    const executor = new NodeRunExecutor({
      nodeRunId: 'nr-2',
      plan: {
        steps: [{ id: 'long', run: 'sleep 30' }],
        onFailure: [{ id: 'cleanup', run: 'echo cleaning; sleep 30' }],
        env: {},
        secrets: [],
      },
      emit: (e) => events.push(e),
    });
    const done = executor.run();
    setTimeout(() => executor.cancel('first cancel'), 150);
    const cleanupStarted = () => events.some((e) => e.type === 'step.started' && e.stepId === 'cleanup');
    while (!cleanupStarted()) await new Promise((r) => setTimeout(r, 20));
    executor.cancel('second cancel');
    expect(await done).toBe('cancelled');
    expect(events.find((e) => e.type === 'step.finished' && e.stepId === 'cleanup')).toMatchObject({ status: 'cancelled' });
  });

  it('honour needs between onFailure steps', async () => {
    const { log } = await execute(
      plan([{ id: 'bad', run: 'exit 1' }], {
        onFailure: [
          { id: 'second', needs: ['first'], run: 'echo "second saw $STEP_FIRST_MARK"' },
          { id: 'first', run: 'echo mark=1 >> "$BATON_OUTPUT"' },
        ],
      }),
    );
    expect(log).toContain('second saw 1');
  });
});

describe('NodeRunExecutor masking', () => {
  const secret = 'hunter2-s3cret';
  const withSecret = (steps: PlanStep[], extra: Partial<NodePlan> = {}) => plan(steps, { secrets: [secret], ...extra });

  it('gives the step the real value but reports *** in its log', async () => {
    const { outcome, log } = await execute(
      withSecret([{ id: 'a', run: 'echo "token=$TOKEN"; test "$TOKEN" = hunter2-s3cret && echo same' }], { env: { TOKEN: secret } }),
    );
    expect(outcome).toBe('succeeded');
    expect(log).toBe('token=***\nsame\n');
  });

  it('masks a value the step writes in two parts with a pause between them', async () => {
    const { events, log } = await execute(withSecret([{ id: 'a', run: "printf 'hunter2-'; sleep 0.2; printf 's3cret done'" }]));
    expect(log).toBe('*** done');
    const chunks = events.filter((e) => e.type === 'step.log').map((e) => (e.type === 'step.log' ? e.data : ''));
    expect(chunks.join('|')).not.toContain('hunter2');
  });

  it('masks the value on stderr and in outputs, while later steps still read the real output', async () => {
    const { finished, log } = await execute(
      withSecret(
        [
          { id: 'make', run: 'echo "oops $TOKEN" >&2; echo "token=$TOKEN" >> "$BATON_OUTPUT"' },
          { id: 'use', needs: ['make'], run: 'test "$STEP_MAKE_TOKEN" = hunter2-s3cret && echo real value passed on' },
        ],
        { env: { TOKEN: secret } },
      ),
    );
    expect(log).toBe('oops ***\nreal value passed on\n');
    expect(finished('make')[0]).toMatchObject({ outputs: { token: '***' } });
  });

  it('masks the value in a step error', async () => {
    const { finished } = await execute(withSecret([{ id: 'a', run: 'true', shell: `/no/such/${secret}/sh` }]));
    const error = (finished('a')[0] as { error?: string }).error;
    expect(error).toContain('could not start /no/such/***/sh');
    expect(error).not.toContain('hunter2');
  });

  it('masks the value in a step env too (from a stored secret)', async () => {
    const { log } = await execute(withSecret([{ id: 'a', run: 'echo "$API_KEY"', env: { API_KEY: secret } }]));
    expect(log).toBe('***\n');
  });
});
