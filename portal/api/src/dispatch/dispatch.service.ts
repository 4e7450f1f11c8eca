/**
 * Starting, orchestrating and stopping executions: picks the target nodes, sends each its plan in rolling
 * batches (`concurrency`), stops starting new nodes after `maxFailures`, cancels, and runs the watchdog that
 * ends node runs whose node went silent, so that no execution stays running forever.
 */
import {
  BadRequestException,
  HttpException,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  NodePlan,
  ParamValue,
  Runbook,
  Targets,
  concurrencyKeyOf,
  needsApproval,
  type ApprovalPolicy,
  parseDuration,
  paramsToEnv,
  maskText,
  redactParams,
  resolveStepSecrets,
  secretsUsedBy,
  validateParams,
} from '@baton/shared';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { MetricsService } from '../core/metrics.service';
import { ReplicaService } from '../core/replica.service';
import { ExecutionsService, type ClaimedExecution, type LiveNodeRun, type NodeRunSighting } from '../executions/executions.service';
import type { Execution, NodeRun, StoredApproval, Trigger } from '../executions/execution.entity';
import { isTerminalNodeRun, type NodeRunStatus } from '../executions/state-machine';
import { NodesService } from '../nodes/nodes.service';
import { RunbooksService } from '../runbooks/runbooks.service';
import { SecretsService } from '../secrets/secrets.service';
import { DispatchQueueService } from './dispatch-queue.service';
import { LocalTransport } from './local.transport';
import { NatsTransport } from './nats.transport';
import { SshTransport } from './ssh.transport';
import type { Transport } from './transport';

export interface StartRequest {
  runbookId: string;
  params: unknown;
  targets?: Targets;
  trigger: Trigger;
  actor: string;
}

const WATCHDOG_MS = 1000;
/** The portal's own deadline trails the node's so that a node reporting its timeout wins the race. */
const TIMEOUT_GRACE_MS = 10_000;
const CANCEL_CONFIRM_MS = 10_000;
const MAX_CACHED_VERSIONS = 1000;

@Injectable()
export class DispatchService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DispatchService.name);
  private watchdog?: NodeJS.Timeout;
  private readonly bootedAt = Date.now();
  private isShuttingDown = false;
  /**
   * Node runs whose rolling batch is being driven by this process (the others' orchestrator is gone). A run joins
   * before it is stored and leaves once it ended or its batch stopped, so a watchdog that reads a run of this
   * replica from the database and then does not find it here knows its batch really stopped.
   */
  private readonly orchestrated = new Set<string>();
  private readonly versions = new Map<string, Runbook>();

  constructor(
    private readonly runbooks: RunbooksService,
    private readonly nodes: NodesService,
    private readonly executions: ExecutionsService,
    private readonly local: LocalTransport,
    private readonly agents: NatsTransport,
    private readonly ssh: SshTransport,
    private readonly secrets: SecretsService,
    private readonly replica: ReplicaService,
    private readonly queue: DispatchQueueService,
    private readonly metrics: MetricsService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  onApplicationBootstrap(): void {
    // The replica whose update ended the execution hears this, so portal-side steps run once.
    this.executions.events.on('executionFinished', ({ executionId, status }) => {
      this.secrets.forgetExecution(executionId);
      if (status === 'failed' || status === 'timed_out') {
        void this.runPortalOnFailure(executionId).catch((err) => this.logger.error({ err, executionId }, 'portal onFailure steps failed'));
      }
    });
    this.queue.setLauncher({
      // Before the claim commits: a watchdog round that reads the claimed runs finds them driven here.
      register: (nodeRunIds) => nodeRunIds.forEach((id) => this.orchestrated.add(id)),
      launch: (claimed) =>
        this.launch(claimed).catch((err) => {
          if (!this.isShuttingDown) throw err;
        }),
    });
    this.watchdog = setInterval(() => void this.checkLiveRuns().catch((err) => this.logger.error({ err }, 'watchdog failed')), WATCHDOG_MS);
  }

  onApplicationShutdown(): void {
    this.isShuttingDown = true;
    clearInterval(this.watchdog);
    this.local.stopAll();
    this.ssh.stopAll();
  }

  /**
   * Accepts a run: checks the parameters, secrets and targets (400 naming what is wrong), the queue bound (429) and
   * the runbook's concurrency (409 when it refuses), and stores the execution `queued`. The dispatch queue starts
   * it (`launch`) as soon as the limits allow, in this replica or another.
   */
  async start(request: StartRequest): Promise<Execution> {
    const record = await this.runbooks.get(request.runbookId);
    const runbook = record.content;
    const params = validateParams(runbook.params, request.params ?? {});
    if (!params.ok) {
      throw new BadRequestException({ message: params.errors.map((e) => `${e.field}: ${e.message}`).join('; '), details: params.errors });
    }
    const withSecrets = await this.resolveSecrets(runbook, params.values);
    const targets = mergeTargets(runbook.targets, request.targets);
    const nodes = await this.nodes.select(targets);
    if (nodes.length === 0) throw new BadRequestException(`targets: no online node matches ${JSON.stringify(targets)}`);
    const key = concurrencyKeyOf(runbook, params.values);
    const concurrency = key && runbook.concurrency ? { key, limit: runbook.concurrency.limit } : undefined;
    await this.queue.admit(concurrency && { ...concurrency, onLimit: runbook.concurrency!.onLimit });

    const id = randomUUID();
    const approval = needsApproval(runbook, params.values) ? this.approvalFor(runbook.approval!, request) : undefined;
    const { execution } = await this.executions.create({
      execution: {
        id,
        runbookId: runbook.id,
        runbookHash: record.currentHash,
        trigger: request.trigger,
        actor: request.actor,
        // Secret parameters are stored as ***: a caller's secret value is never persisted in clear. A known secret
        // value typed into an ordinary parameter is masked too.
        params: this.maskedParams(redactParams(runbook.params, withSecrets.params), withSecrets.values),
        targets,
        timeoutMs: parseDuration(runbook.timeout ?? this.config.defaultTimeout),
      },
      nodes: nodes.map((n) => ({ id: randomUUID(), node: n.name, executor: n.executor })),
      // What the caller gave, encrypted: whichever replica starts the run rebuilds the plan from it.
      sealedParams: this.secrets.sealParams(id, params.values),
      concurrency,
      approval,
    });
    // A run that needs approval waits; approving it queues it (see approvals/).
    if (!approval) this.queue.accepted();
    return execution;
  }

  /** What a run must wait for: the runbook's policy now, who asked, and until when it may wait. */
  private approvalFor(policy: ApprovalPolicy, request: StartRequest): StoredApproval {
    const trigger = request.trigger;
    const requestedBy = trigger.type === 'user' || trigger.type === 'token' ? trigger.user : request.actor;
    return {
      required: policy.required,
      approvers: policy.approvers,
      selfApproval: policy.selfApproval,
      requestedBy,
      timeoutAt: new Date(Date.now() + parseDuration(policy.timeout)).toISOString(),
    };
  }

  /** Starts a claimed execution: its runbook version, parameters and secrets become the plan its nodes get. */
  private async launch(claimed: ClaimedExecution): Promise<void> {
    let plan: NodePlan;
    try {
      const runbook = await this.runbookVersion(claimed.runbookHash);
      const withSecrets = await this.resolveSecrets(runbook, this.secrets.openParams(claimed.id, claimed.sealedParams));
      this.secrets.maskForExecution(claimed.id, withSecrets.values);
      plan = nodePlan(runbook, paramsToEnv(withSecrets.params), withSecrets, claimed.timeoutMs);
    } catch (err) {
      // E.g. a stored secret deleted while the run waited: the run cannot start, and says why.
      const reason = `not started: ${err instanceof HttpException ? JSON.stringify(err.getResponse()) : String(err)}`;
      for (const { id } of claimed.nodeRuns) {
        await this.executions.endNodeRun(claimed.id, id, 'failed', reason);
        this.orchestrated.delete(id);
      }
      return;
    }
    await this.orchestrate(claimed.id, claimed.nodeRuns, plan, claimed.targets);
  }

  /** Runbook versions never change once stored (their id is their content hash): kept after the first read. */
  private async runbookVersion(hash: string): Promise<Runbook> {
    let runbook = this.versions.get(hash);
    if (!runbook) {
      runbook = await this.runbooks.version(hash);
      if (this.versions.size >= MAX_CACHED_VERSIONS) this.versions.clear();
      this.versions.set(hash, runbook);
    }
    return runbook;
  }

  /**
   * Looks up every stored secret the runbook uses (step env, and secret parameters the caller left empty) and
   * returns the parameters complete, the looked-up values by name, and every secret value the nodes must mask.
   * A secret that does not exist is a 400 naming it and where the runbook uses it; nothing is dispatched.
   */
  private async resolveSecrets(
    runbook: Runbook,
    given: Record<string, ParamValue>,
  ): Promise<{ params: Record<string, ParamValue>; stored: Map<string, string>; values: string[] }> {
    const paramSpecs = runbook.params ?? {};
    const uses = secretsUsedBy(runbook).filter((use) => {
      const param = use.where.startsWith('params.') ? use.where.slice('params.'.length) : undefined;
      return param === undefined || given[param] === undefined;
    });
    const stored = await this.secrets.resolve(uses.map((use) => use.secret));
    const missing = uses.filter((use) => !stored.has(use.secret));
    if (missing.length > 0) {
      const details = missing.map((use) => ({ field: use.where, message: `secret "${use.secret}" does not exist` }));
      const names = [...new Set(missing.map((use) => use.secret))].join(', ');
      throw new BadRequestException({
        message: `${details.map((d) => `${d.field}: ${d.message}`).join('; ')}; an admin can set it with PUT /api/v1/secrets/{name} (${names})`,
        details,
      });
    }
    const params = { ...given };
    const values = [...stored.values()];
    for (const [name, spec] of Object.entries(paramSpecs)) {
      if (spec.type !== 'secret') continue;
      if (params[name] === undefined && spec.secret !== undefined) params[name] = stored.get(spec.secret)!;
      if (params[name] !== undefined) values.push(String(params[name]));
    }
    return { params, stored, values: [...new Set(values)] };
  }

  private maskedParams(params: Record<string, ParamValue>, runValues: string[]): Record<string, ParamValue> {
    const masked: Record<string, ParamValue> = {};
    for (const [name, value] of Object.entries(params)) {
      masked[name] = typeof value === 'string' ? maskText(this.secrets.mask(value), runValues) : value;
    }
    return masked;
  }

  async cancel(executionId: string, reason: string): Promise<Execution> {
    await this.executions.requestCancel(executionId);
    for (const run of await this.executions.nodeRunsOf(executionId)) {
      if (isTerminalNodeRun(run.status)) continue;
      // Not dispatched yet: ended here, unless it was dispatched since it was read; then it is the node's to stop.
      const notStarted: NodeRunSighting = { status: 'queued', isDispatched: false, isDriverGone: false };
      if (run.status === 'queued' && !run.dispatchedAt) {
        if (await this.executions.endNodeRun(executionId, run.id, 'cancelled', `cancelled before start: ${reason}`, notStarted)) continue;
      }
      await this.transportFor(run.executor).cancel({ type: 'cancel', nodeRunId: run.id, node: run.node, reason });
    }
    return this.executions.get(executionId);
  }

  /**
   * Sends the plan to the nodes in rolling batches, waiting for node runs to end before starting more. The runs are
   * in `orchestrated` already (see start); they leave it when this ends.
   */
  private async orchestrate(executionId: string, nodeRuns: PlannedRun[], plan: NodePlan, targets: Targets): Promise<void> {
    const queue = [...nodeRuns];
    const concurrency = targets.concurrency ?? queue.length;
    const maxFailures = targets.maxFailures ?? Infinity;
    const active = new Set<string>();
    let failures = 0;
    let wake: () => void = () => undefined;
    // Ends heard in this process carry their status: no need to read them back. Ends on another replica are found
    // by reading the node runs when the timer wakes the loop instead.
    const heard = new Map<string, NodeRunStatus>();
    const onFinished = ({ executionId: id, nodeRunId, status }: { executionId: string; nodeRunId: string; status: NodeRunStatus }) => {
      if (id !== executionId) return;
      heard.set(nodeRunId, status);
      wake();
    };
    this.executions.events.on('nodeRunFinished', onFinished);
    try {
      for (let round = 0; ; round++) {
        // A just-claimed execution cannot have been cancelled yet, and with nothing left to start there is nothing
        // to stop: the database is asked only in between.
        const stopReason = round === 0 || queue.length === 0 ? undefined : await this.stopReason(executionId, failures, maxFailures);
        while (!stopReason && queue.length > 0 && active.size < concurrency) {
          const run = queue.shift()!;
          active.add(run.id);
          void this.dispatchOne(executionId, run, plan).catch((err) =>
            this.logger.error({ err, executionId, nodeRunId: run.id }, 'could not record the dispatch of a node run'),
          );
        }
        if (stopReason) {
          for (const run of queue.splice(0))
            await this.executions.endNodeRun(executionId, run.id, 'cancelled', `not started: ${stopReason}`);
        }
        // Node runs left behind by a stopping portal are picked up by the watchdog of the next one.
        if (active.size === 0 || this.isShuttingDown) return;
        // Woken by a node run ending in this process; node runs may also end on another replica, hence the timer.
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (heard.size > 0) resolve();
          setTimeout(resolve, 1000).unref();
        });
        const ended = heard.size > 0 ? [...heard].map(([id, status]) => ({ id, status })) : await this.executions.nodeRunsOf(executionId);
        heard.clear();
        for (const run of ended) {
          if (!active.has(run.id) || !isTerminalNodeRun(run.status)) continue;
          active.delete(run.id);
          if (run.status !== 'succeeded') failures++;
        }
      }
    } finally {
      this.executions.events.off('nodeRunFinished', onFinished);
      for (const run of nodeRuns) this.orchestrated.delete(run.id);
    }
  }

  private async stopReason(executionId: string, failures: number, maxFailures: number): Promise<string | undefined> {
    if (failures > maxFailures) return `${failures} node(s) failed, more than maxFailures (${maxFailures})`;
    const execution = await this.executions.get(executionId);
    if (execution.cancelRequestedAt) return 'execution cancelled';
    return undefined;
  }

  private async dispatchOne(executionId: string, run: PlannedRun, plan: NodePlan): Promise<void> {
    const result = await this.transportFor(run.executor).dispatch({
      type: 'dispatch',
      executionId,
      nodeRunId: run.id,
      node: run.node,
      plan,
    });
    if (result.accepted) {
      // A cancel that came while the order was on its way ended the run before the node had it: stop it there too.
      if ((await this.executions.markDispatched(run.id)) === 'cancelled') {
        await this.transportFor(run.executor).cancel({ type: 'cancel', nodeRunId: run.id, node: run.node, reason: 'execution cancelled' });
      }
      return;
    }
    this.logger.warn({ executionId, nodeRunId: run.id, node: run.node, reason: result.reason }, 'dispatch failed');
    await this.executions.endNodeRun(executionId, run.id, result.status, result.reason);
  }

  /** `onFailure` steps marked `on: portal` are HTTP calls the portal makes itself (a chat hook, a pager). */
  private async runPortalOnFailure(executionId: string): Promise<void> {
    const execution = await this.executions.get(executionId);
    const runbook = await this.runbooks.version(execution.runbookHash);
    for (const step of (runbook.onFailure ?? []).filter((s) => s.on === 'portal' && s.http)) {
      const { method, url, headers, body } = step.http!;
      const timeoutMs = step.timeout ? parseDuration(step.timeout) : 10_000;
      try {
        const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
        this.logger.log({ executionId, step: step.id, status: res.status }, 'portal onFailure step called');
      } catch (err) {
        this.logger.warn({ executionId, step: step.id, err: String(err) }, 'portal onFailure step could not call its URL');
      }
    }
  }

  private transportFor(executor: string): Transport {
    if (executor === 'local') return this.local;
    if (executor === 'agent' && this.config.nats) return this.agents;
    if (executor === 'ssh') return this.ssh;
    throw new Error(`no transport for executor "${executor}"`);
  }

  /**
   * The watchdog: every live node run must still have a live node, a deadline, and a cancel that lands. It judges
   * a view of the runs read from the database, with this process's own state (orchestrated batches, running maps)
   * read after it; each decision lands only if the run is still as seen (NodeRunSighting), so a run that moved on
   * meanwhile is never ended on a stale view.
   */
  private async checkLiveRuns(): Promise<void> {
    const now = Date.now();
    for (const run of await this.executions.liveNodeRuns()) {
      const verdict = this.deadReason(run, now);
      if (!verdict) continue;
      const seen: NodeRunSighting = { status: run.status, isDispatched: run.dispatchedAt !== null, isDriverGone: verdict.isDriverGone };
      const ended = await this.executions.endNodeRun(run.executionId, run.id, verdict.status, verdict.reason, seen);
      if (ended) this.metrics.watchdogActions.inc({ status: verdict.status });
      if (ended && verdict.status === 'timed_out') this.stopOnNode(run, 'runbook timeout');
    }
    for (const executionId of await this.executions.cancelsUnconfirmedFor(CANCEL_CONFIRM_MS)) {
      for (const run of await this.executions.nodeRunsOf(executionId)) {
        if (!isTerminalNodeRun(run.status))
          await this.executions.endNodeRun(executionId, run.id, 'cancelled', 'cancel not confirmed by the node in time');
      }
    }
  }

  /** Asks the node to stop a run the portal has ended; the node may be gone, so a failure here is expected. */
  private stopOnNode(run: LiveNodeRun, reason: string): void {
    try {
      void this.transportFor(run.executor)
        .cancel({ type: 'cancel', nodeRunId: run.id, node: run.node, reason })
        .catch(() => undefined);
    } catch (err) {
      this.logger.warn({ nodeRunId: run.id, node: run.node, err: String(err) }, 'could not ask the node to stop the run');
    }
  }

  /** Why a live node run should end now, judged on the watchdog's view of it; undefined while it is fine. */
  private deadReason(run: LiveNodeRun, now: number): DeadVerdict | undefined {
    // Orchestration, `local` and SSH node runs live in the replica driving the execution: only that replica can
    // tell whether they still run; the others step in once it stopped heartbeating.
    const isMine = run.drivenBy === this.replica.id;
    const driverGone = !isMine && !run.isDriverAlive;
    const driverStopped = `the portal replica driving this execution (${run.drivenBy ?? 'unknown'}) stopped`;
    const byDriver = (status: NodeRunStatus, reason: string) => ({ status, reason, isDriverGone: !isMine });
    if (!run.dispatchedAt) {
      // Waiting for its turn in a rolling batch is normal, unless the portal driving the batch is gone.
      const isOrphan = isMine ? !this.orchestrated.has(run.id) : driverGone;
      return isOrphan ? byDriver('cancelled', `not started: ${isMine ? 'the batch stopped' : driverStopped}`) : undefined;
    }
    // The node enforces the runbook timeout from its own start; this is the backstop if it never reports.
    if (now - new Date(run.dispatchedAt).getTime() > run.timeoutMs + TIMEOUT_GRACE_MS) {
      return {
        status: 'timed_out',
        reason: `runbook timeout of ${run.timeoutMs} ms passed without the node reporting an end`,
        isDriverGone: false,
      };
    }
    if (run.executor === 'local' && (isMine ? !this.local.isRunning(run.id) : driverGone)) {
      return byDriver('lost', isMine ? 'the run on the local node stopped without reporting an end' : `${driverStopped} during the run`);
    }
    if (run.executor === 'ssh' && (isMine ? !this.ssh.isRunning(run.id) && !this.orchestrated.has(run.id) : driverGone)) {
      return byDriver('lost', isMine ? 'the SSH node run stopped without reporting an end' : `${driverStopped} during the run`);
    }
    // Right after a portal start no heartbeat has been heard yet: give agents one silence period first.
    if (run.executor === 'agent' && now - this.bootedAt > this.nodes.silenceLimitMs && !this.nodes.isAlive(run.node, now)) {
      const silentMs = this.nodes.msSinceHeartbeat(run.node, now);
      return {
        status: 'lost',
        reason: `agent stopped answering: no heartbeat for ${silentMs === undefined ? 'a while' : `${Math.round(silentMs / 1000)} s`}`,
        isDriverGone: false,
      };
    }
    return undefined;
  }
}

/** A node run as the orchestrator needs it. */
type PlannedRun = Pick<NodeRun, 'id' | 'node' | 'executor'>;

/** How the watchdog would end a node run, and whether that rests on the run's replica having gone silent. */
interface DeadVerdict {
  status: NodeRunStatus;
  reason: string;
  isDriverGone: boolean;
}

function mergeTargets(fromRunbook: Targets | undefined, fromRequest: Targets | undefined): Targets {
  const base = fromRunbook ?? {};
  const request = fromRequest ?? {};
  const isSelecting = request.names !== undefined || request.labels !== undefined || request.local !== undefined;
  const selection = isSelecting
    ? { names: request.names, labels: request.labels, local: request.local }
    : { names: base.names, labels: base.labels, local: base.local };
  if (!selection.names && !selection.labels && !selection.local) {
    throw new BadRequestException('targets: the runbook names no targets; give targets.names, targets.labels or targets.local');
  }
  return {
    ...Object.fromEntries(Object.entries(selection).filter(([, v]) => v !== undefined)),
    concurrency: request.concurrency ?? base.concurrency,
    maxFailures: request.maxFailures ?? base.maxFailures,
  };
}

/**
 * What each node receives: its steps and onFailure steps (portal-side steps stay here) with secret env values
 * filled in, the parameters as env, and the secret values to mask. The orchestrator keeps this plan in memory for
 * every rolling batch; it is never stored, so secret values live only here and in the dispatch envelopes.
 */
function nodePlan(
  runbook: Runbook,
  env: Record<string, string>,
  secrets: { stored: Map<string, string>; values: string[] },
  timeoutMs: number,
): NodePlan {
  const onNode = (steps: Runbook['steps'] | undefined) =>
    resolveStepSecrets(
      (steps ?? []).filter((s) => s.on !== 'portal'),
      secrets.stored,
    );
  return { steps: onNode(runbook.steps), onFailure: onNode(runbook.onFailure), env, secrets: secrets.values, timeoutMs };
}
