/**
 * Executes one node's share of an execution: the steps as a DAG (independent steps in parallel), retries with
 * backoff, step and node timeouts, outputs, `onFailure` steps and cancel. It reports progress only as events,
 * so the agent (publishing to JetStream) and the portal's `local` node (writing directly) share this code; where the
 * commands run is a `StepHost` (child processes here by default, a remote machine over SSH for agentless nodes).
 * Every reported text (log chunks, outputs, errors, reasons) is masked against the plan's `secrets` here, at the
 * source, so secret values never leave the node in an event.
 */
import { parseDuration } from '../duration';
import type { NodeEvent, NodeEventDraft, NodeOutcome, NodePlan, PlanStep, StepStatus } from '../protocol/messages';
import { SecretMasker, maskRecord, maskText } from './mask';
import { outputEnvName, parseOutputs } from './outputs';
import { localHost, type StepHost } from './host';

export interface NodeRunOptions {
  nodeRunId: string;
  plan: NodePlan;
  emit(event: NodeEvent): void;
  /** Variables of the executor's own environment that steps may see (PATH, HOME...); nothing else leaks in. */
  baseEnv?: Record<string, string>;
  /** Where the commands run; default: child processes of this process with `baseEnv`. */
  host?: StepHost;
  /** Sequence number of the first event; a resumed emitter continues where it stopped. */
  firstSeq?: number;
}

const DEFAULT_SHELL = '/bin/sh';
const LOG_FLUSH_MS = 25;
const LOG_FLUSH_BYTES = 32 * 1024;
const MAX_BACKOFF_MS = 5 * 60_000;

export function defaultBaseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return env;
}

export class NodeRunExecutor {
  private seq: number;
  private readonly abort = new AbortController();
  /** Exists while onFailure steps run: a cancel or the deadline then stops them too. */
  private onFailureAbort?: AbortController;
  private stopReason?: { status: 'cancelled' | 'timed_out'; reason: string };
  private readonly outputsEnv: Record<string, string> = {};
  private workdir = '';
  private readonly secrets: string[];
  private readonly host: StepHost;

  constructor(private readonly options: NodeRunOptions) {
    this.seq = options.firstSeq ?? 0;
    this.secrets = options.plan.secrets ?? [];
    this.host = options.host ?? localHost(options.baseEnv ?? defaultBaseEnv());
  }

  get nodeRunId(): string {
    return this.options.nodeRunId;
  }

  /** Stops every running step (their process groups are killed) and starts no new one. */
  cancel(reason: string): void {
    this.stop('cancelled', reason);
  }

  async run(): Promise<NodeOutcome> {
    const { plan } = this.options;
    const deadline = plan.timeoutMs
      ? setTimeout(() => this.stop('timed_out', `runbook timeout of ${plan.timeoutMs} ms reached`), plan.timeoutMs)
      : undefined;
    this.workdir = await this.host.makeWorkdir();
    try {
      const failed = await this.runDag(plan.steps, this.abort.signal);
      let outcome: NodeOutcome = 'succeeded';
      let reason: string | undefined;
      if (this.stopReason) {
        outcome = this.stopReason.status;
        reason = this.stopReason.reason;
      } else if (failed.length > 0) {
        outcome = 'failed';
        reason = `step ${failed.join(', ')} failed`;
      }
      if (outcome !== 'succeeded' && plan.onFailure.length > 0) {
        await this.runOnFailure(plan.onFailure, failed);
      }
      this.send({ type: 'node.finished', status: outcome, reason: reason === undefined ? undefined : this.mask(reason) });
      return outcome;
    } finally {
      clearTimeout(deadline);
      await this.host.removeWorkdir(this.workdir);
    }
  }

  private stop(status: 'cancelled' | 'timed_out', reason: string): void {
    if (!this.stopReason) {
      this.stopReason = { status, reason };
      this.abort.abort();
    }
    this.onFailureAbort?.abort();
  }

  /** Runs the steps as their `needs` allow; returns the ids of the steps that failed. */
  private async runDag(steps: PlanStep[], signal: AbortSignal): Promise<string[]> {
    const status = new Map<string, StepStatus>();
    const running = new Map<string, Promise<void>>();
    const failed: string[] = [];
    const isDone = (id: string) => status.has(id);
    const isGood = (id: string) => status.get(id) === 'succeeded' || steps.find((s) => s.id === id)?.continueOnError;

    while (status.size < steps.length) {
      let skippedAny = false;
      for (const step of steps) {
        if (isDone(step.id) || running.has(step.id)) continue;
        const needs = step.needs ?? [];
        if (!needs.every(isDone)) continue;
        if (signal.aborted || !needs.every(isGood)) {
          status.set(step.id, 'skipped');
          this.send({ type: 'step.finished', stepId: step.id, attempt: 0, status: 'skipped', exitCode: null, outputs: {} });
          skippedAny = true;
          continue;
        }
        const work = this.runStep(step, signal).then((result) => {
          status.set(step.id, result);
          running.delete(step.id);
          if (result !== 'succeeded' && !step.continueOnError) failed.push(step.id);
        });
        running.set(step.id, work);
      }
      if (running.size === 0) {
        if (skippedAny) continue; // skipping may have settled the needs of later steps
        if (status.size < steps.length) throw new Error('steps left that can never start (invalid needs)');
        break;
      }
      await Promise.race(running.values());
    }
    return failed;
  }

  /** onFailure steps run even after a cancel or timeout (to clean up), as a DAG of their own, stoppable by a further cancel. */
  private async runOnFailure(steps: PlanStep[], failedSteps: string[]): Promise<void> {
    this.outputsEnv.BATON_FAILED_STEPS = failedSteps.join(',');
    this.onFailureAbort = new AbortController();
    await this.runDag(
      steps.filter((s) => s.on !== 'portal'),
      this.onFailureAbort.signal,
    );
  }

  /** All attempts of one step; returns its final status. */
  private async runStep(step: PlanStep, signal: AbortSignal): Promise<StepStatus> {
    const attempts = step.retry?.attempts ?? 1;
    const backoffMs = step.retry?.backoff ? parseDuration(step.retry.backoff) : 1000;
    let status: StepStatus = 'failed';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      status = await this.runAttempt(step, attempt, signal);
      if (status === 'succeeded' || status === 'cancelled' || signal.aborted) break;
      if (attempt < attempts) {
        const waitMs = Math.min(backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
        this.log(step.id, attempt, 'system', `attempt ${attempt} ${status}; retrying in ${waitMs} ms\n`);
        if (!(await sleep(waitMs, signal))) break;
      }
    }
    return status;
  }

  private async runAttempt(step: PlanStep, attempt: number, signal: AbortSignal): Promise<StepStatus> {
    this.send({ type: 'step.started', stepId: step.id, attempt });
    // Plain `/`: the path may be on another machine, and every host the executor supports is POSIX.
    const outputFile = `${this.workdir}/${step.id}.${attempt}.out`;
    const logs = new LogBatcher((stream, data) => this.log(step.id, attempt, stream, data));
    // One masker per stream: a secret split between two writes of stdout is caught, and stderr cannot interleave it.
    const maskers = { stdout: new SecretMasker(this.secrets), stderr: new SecretMasker(this.secrets) };
    const result = await this.host.runStep({
      outputFile,
      command: step.run ?? '',
      shell: step.shell ?? DEFAULT_SHELL,
      cwd: step.workdir ?? this.workdir,
      env: {
        ...this.options.plan.env,
        ...this.outputsEnv,
        ...(step.env ?? {}),
        BATON_OUTPUT: outputFile,
        BATON_STEP: step.id,
        BATON_ATTEMPT: String(attempt),
        BATON_NODE_RUN: this.options.nodeRunId,
      },
      timeoutMs: step.timeout ? parseDuration(step.timeout) : undefined,
      signal,
      onOutput: (stream, text) => logs.add(stream, maskers[stream].push(text)),
    });
    for (const stream of ['stdout', 'stderr'] as const) logs.add(stream, maskers[stream].flush());
    logs.flush();

    const outputs = parseOutputs(result.outputText);
    const status = attemptStatus(result, this.stopReason?.status);
    if (status === 'succeeded') {
      for (const [key, value] of Object.entries(outputs)) this.outputsEnv[outputEnvName(step.id, key)] = value;
    }
    const error =
      result.error ??
      (result.stoppedBy === 'timeout' ? `step timeout of ${step.timeout} reached` : undefined) ??
      (result.stoppedBy === 'cancel' ? this.stopReason?.reason : undefined);
    this.send({
      type: 'step.finished',
      stepId: step.id,
      attempt,
      status,
      exitCode: result.exitCode,
      // Later steps get the real values through outputsEnv; only the report is masked.
      outputs: maskRecord(outputs, (text) => this.mask(text)),
      error: error === undefined ? undefined : this.mask(error),
    });
    return status;
  }

  /** Log data from step processes arrives already masked (streaming); system lines are masked whole. */
  private log(stepId: string, attempt: number, stream: 'stdout' | 'stderr' | 'system', data: string): void {
    this.send({ type: 'step.log', stepId, attempt, stream, data: stream === 'system' ? this.mask(data) : data });
  }

  private mask(text: string): string {
    return maskText(text, this.secrets);
  }

  private send(draft: NodeEventDraft): void {
    this.options.emit({ ...draft, nodeRunId: this.options.nodeRunId, seq: this.seq++, at: Date.now() } as NodeEvent);
  }
}

function attemptStatus(
  result: { exitCode: number | null; stoppedBy?: 'timeout' | 'cancel'; error?: string },
  nodeStop?: 'cancelled' | 'timed_out',
): StepStatus {
  if (result.stoppedBy === 'timeout') return 'timed_out';
  if (result.stoppedBy === 'cancel') return nodeStop ?? 'cancelled';
  return result.exitCode === 0 && !result.error ? 'succeeded' : 'failed';
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Groups output into chunks (by time and size) so that a chatty step does not become one event per line. */
class LogBatcher {
  private pending: { stream: 'stdout' | 'stderr'; text: string } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly write: (stream: 'stdout' | 'stderr', data: string) => void) {}

  add(stream: 'stdout' | 'stderr', text: string): void {
    if (text === '') return;
    if (this.pending && this.pending.stream !== stream) this.flush();
    if (this.pending) this.pending.text += text;
    else this.pending = { stream, text };
    if (this.pending.text.length >= LOG_FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), LOG_FLUSH_MS);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending) return;
    const { stream, text } = this.pending;
    this.pending = undefined;
    this.write(stream, text);
  }
}
