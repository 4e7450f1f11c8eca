/**
 * Notifications about runs: hears ExecutionsService's events (an execution succeeded, failed or timed out; a node
 * was lost) in the replica that recorded them, and publishes one event each with what a reader needs: runbook, who
 * or what started it, nodes, duration, the failing step with the last lines of its (masked) log, and a link.
 * An outcome recorded just before a crash, whose event was never published, is published at the next start.
 */
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { NotifyList, Runbook } from '@baton/shared';
import { namespaceOf } from '../auth/permissions';
import type { Execution, NodeRun, StepRun, Trigger } from '../executions/execution.entity';
import { ExecutionsService } from '../executions/executions.service';
import { RunbooksService } from '../runbooks/runbooks.service';
import { NOTIFIED_OUTCOMES, type FailingStep, type NotificationEvent, type RunFacts } from './notification-event';
import { NotificationsService } from './notifications.service';
import { namedFor } from './recipients';

/** The events about one run that this service publishes (waiting and input.requested for whoever records those). */
export type RunEventType =
  'execution.succeeded' | 'execution.failed' | 'execution.timed_out' | 'execution.waiting' | 'input.requested' | 'node.lost';

const LOG_TAIL_LINES = 20;
const FAILED_STEP = new Set(['failed', 'timed_out']);
const LOG_LINE_CHARS = 300;
/** How far back the start-up pass looks for outcomes whose event was never published. */
const MISSED_WINDOW = '1 hour';

@Injectable()
export class RunNotices implements OnApplicationBootstrap {
  private readonly logger = new Logger(RunNotices.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly executions: ExecutionsService,
    private readonly runbooks: RunbooksService,
    private readonly notifications: NotificationsService,
  ) {}

  onApplicationBootstrap(): void {
    this.executions.events.on('executionFinished', ({ executionId, status }) => {
      if (!(NOTIFIED_OUTCOMES as readonly string[]).includes(status)) return;
      this.announceLogged(executionId, `execution.${status}` as RunEventType);
    });
    this.executions.events.on('nodeRunFinished', ({ executionId, nodeRunId, status }) => {
      if (status === 'lost') this.announceLogged(executionId, 'node.lost', nodeRunId);
    });
    void this.announceMissed().catch((err) => this.logger.error({ err }, 'could not look for run outcomes left unannounced'));
  }

  private announceLogged(executionId: string, type: RunEventType, nodeRunId?: string): void {
    void this.announce(executionId, type, nodeRunId).catch((err) =>
      this.logger.error({ err, executionId, type }, 'could not publish a notification about a run'),
    );
  }

  /**
   * Publishes one event about a run (once per execution and type, or per node run for `node.lost`). Exported for
   * the modules that record other moments of a run (an execution waiting for approval, a step asking for input).
   */
  async announce(executionId: string, type: RunEventType, nodeRunId?: string): Promise<void> {
    const execution = await this.executions.get(executionId);
    const runbook = await this.runbooks.version(execution.runbookHash).catch(() => undefined);
    const job = jobOf(execution.trigger);
    const scope = { namespace: namespaceOf(execution.runbookId), runbook: execution.runbookId, job, trigger: execution.trigger.type };
    const named = namedFor([runbook?.notify, job ? await this.jobNotify(job) : undefined], type);
    const runs = await this.executions.nodeRunsOf(executionId);
    const lostNode = runs.find((r) => r.id === nodeRunId)?.node;
    const event: NotificationEvent = {
      id: runEventId(type, executionId, nodeRunId),
      type,
      occurredAt: new Date().toISOString(),
      scope,
      title: titleOf(execution.runbookId, type, lostNode),
      ...(lostNode ? { node: lostNode } : {}),
    };
    // Nobody listening: the event is still stored (so the start-up pass knows it was announced), without the facts.
    const recipients = await this.notifications.recipientsFor(type, scope, named);
    if (recipients.length === 0) {
      await this.notifications.publish(event, { executionId, named });
      return;
    }
    const run = await this.runFacts(execution, runbook, runs, nodeRunId);
    const link = this.notifications.linkTo(`/executions/${executionId}`);
    await this.notifications.publish({ ...event, run, ...(link ? { link } : {}) }, { executionId, named });
  }

  private async runFacts(execution: Execution, runbook: Runbook | undefined, runs: NodeRun[], focusRunId?: string): Promise<RunFacts> {
    const steps = await this.executions.stepRunsOf(runs.map((r) => r.id));
    const durationMs =
      execution.startedAt && execution.finishedAt ? execution.finishedAt.getTime() - execution.startedAt.getTime() : undefined;
    const failingStep = await this.failingStep(runs, steps, focusRunId);
    return {
      id: execution.id,
      runbook: execution.runbookId,
      ...(runbook?.title ? { runbookTitle: runbook.title } : {}),
      status: execution.status,
      ...(execution.reason ? { reason: execution.reason } : {}),
      triggeredBy: describeTrigger(execution.trigger),
      nodes: runs.map((r) => ({ node: r.node, status: r.status, ...(r.reason ? { reason: r.reason } : {}) })),
      ...(durationMs !== undefined ? { durationMs } : {}),
      ...(failingStep ? { failingStep } : {}),
    };
  }

  /**
   * The step that ended the run on the first node that did not succeed (or on the node the event is about): its
   * first failed step, else the last one it started, with the end of that step's log.
   */
  private async failingStep(runs: NodeRun[], steps: StepRun[], focusRunId?: string): Promise<FailingStep | undefined> {
    const run = focusRunId ? runs.find((r) => r.id === focusRunId) : runs.find((r) => r.status !== 'succeeded' && r.status !== 'queued');
    if (!run) return undefined;
    const latest = latestAttempts(steps.filter((s) => s.nodeRunId === run.id));
    const failed = latest.find((s) => FAILED_STEP.has(s.status)) ?? latest[latest.length - 1];
    if (!failed) return undefined;
    return {
      node: run.node,
      step: failed.stepId,
      exitCode: failed.exitCode,
      ...(failed.error ? { error: failed.error } : {}),
      logTail: await this.logTail(run.id, failed.stepId),
    };
  }

  /** The last lines a step wrote, as stored (masked when they were written), without terminal colour codes. */
  private async logTail(nodeRunId: string, stepId: string): Promise<string[]> {
    const chunks: { data: string }[] = await this.db.query(
      `SELECT data FROM node_events WHERE node_run_id = $1 AND type = 'step.log' AND step_id = $2 ORDER BY seq DESC LIMIT 100`,
      [nodeRunId, stepId],
    );
    const text = chunks
      .reverse()
      .map((c) => c.data)
      .join('')
      // eslint-disable-next-line no-control-regex
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-LOG_TAIL_LINES).map((line) => (line.length > LOG_LINE_CHARS ? `${line.slice(0, LOG_LINE_CHARS)}…` : line));
  }

  private async jobNotify(job: string): Promise<NotifyList | undefined> {
    const [row]: { notify: NotifyList | null }[] = await this.db.query(`SELECT content->'notify' AS notify FROM jobs WHERE id = $1`, [job]);
    return row?.notify ?? undefined;
  }

  /** Outcomes recorded in the last hour whose event is not stored (the portal stopped in between): published now. */
  private async announceMissed(): Promise<void> {
    const missed: { id: string; status: string }[] = await this.db.query(
      `SELECT e.id, e.status FROM executions e
        WHERE e.status = ANY($1::text[]) AND e.created_at > now() - interval '1 day' AND e.finished_at > now() - interval '${MISSED_WINDOW}'
          AND NOT EXISTS (SELECT 1 FROM notification_events n WHERE n.id = 'execution.' || e.status || '/' || e.id::text)`,
      [[...NOTIFIED_OUTCOMES]],
    );
    for (const { id, status } of missed) await this.announce(id, `execution.${status}` as RunEventType);
    if (missed.length > 0)
      this.logger.warn({ executions: missed.length }, 'published notifications the portal had not published before it stopped');
  }
}

/**
 * One event per execution and type, or per node run for a lost node: `execution.failed/<execution id>`. The start-up
 * pass looks outcomes up by this id.
 */
function runEventId(type: RunEventType, executionId: string, nodeRunId: string | undefined): string {
  return `${type}/${nodeRunId ?? executionId}`;
}

function jobOf(trigger: Trigger): string | undefined {
  return 'job' in trigger ? trigger.job : undefined;
}

/** Who or what started a run, in words. */
export function describeTrigger(trigger: Trigger): string {
  switch (trigger.type) {
    case 'user':
      return trigger.job ? `user ${trigger.user} (ran job ${trigger.job})` : `user ${trigger.user}`;
    case 'token':
      return trigger.job ? `API token of ${trigger.user} (ran job ${trigger.job})` : `API token of ${trigger.user}`;
    case 'schedule':
      return `schedule of job ${trigger.job}`;
    case 'webhook':
      return `alert rule ${trigger.rule} (hook ${trigger.hook})`;
    case 'scaling':
      return `scaling of pool ${trigger.pool}`;
    default:
      return String((trigger as { type: string }).type);
  }
}

function titleOf(runbook: string, type: RunEventType, node?: string): string {
  switch (type) {
    case 'execution.succeeded':
      return `${runbook} succeeded`;
    case 'execution.failed':
      return `${runbook} failed`;
    case 'execution.timed_out':
      return `${runbook} timed out`;
    case 'execution.waiting':
      return `${runbook} is waiting for approval`;
    case 'input.requested':
      return `${runbook} asks for input`;
    case 'node.lost':
      return `${runbook}: node ${node ?? '?'} was lost`;
  }
}

/** Each step's last attempt, in the order the steps started. */
function latestAttempts(steps: StepRun[]): StepRun[] {
  const byStep = new Map<string, StepRun>();
  for (const step of steps) {
    const seen = byStep.get(step.stepId);
    if (!seen || step.attempt > seen.attempt) byStep.set(step.stepId, step);
  }
  return [...byStep.values()];
}
