/** Executions as the API returns them (`GET /executions`, `GET /executions/:id`). */
import type { ApprovalView } from '../approvals/approval';

/** `waiting`: for approval (or for input mid-run); `queued`: accepted, waiting for the dispatcher; `rejected`: refused by an approver. */
export const EXECUTION_STATUSES = ['queued', 'waiting', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'rejected'] as const;

export interface Trigger {
  type: string;
  user?: string;
  token?: string;
  job?: string;
  hook?: string;
  [key: string]: unknown;
}

export interface ExecutionSummary {
  id: string;
  status: string;
  reason?: string;
  runbook: string;
  runbookVersion: string;
  trigger: Trigger;
  actor: string;
  params: Record<string, unknown>;
  targets?: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface StepRunView {
  id: string;
  status: string;
  exitCode: number | null;
  attempts: number;
  outputs: Record<string, string>;
  error?: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface NodeRunView {
  node: string;
  executor: string;
  status: string;
  reason?: string;
  startedAt: string | null;
  finishedAt: string | null;
  steps: StepRunView[];
}

export interface ExecutionDetail extends ExecutionSummary {
  nodes: NodeRunView[];
  /** The execution this one runs again ("Run again", "Retry failed nodes"). */
  rerunOf?: string;
  /** Executions that ran this one again, newest first. */
  reruns?: string[];
  /** For a run whose runbook asked for approval: who may decide, and the decisions taken. */
  approval?: ApprovalView;
}

/** The status in words: `waiting for approval` says what a waiting run waits for. */
export function describeStatus(execution: Pick<ExecutionDetail, 'status' | 'approval'>): string {
  if (execution.status === 'waiting' && execution.approval) return 'waiting for approval';
  return execution.status;
}

/** The trigger in words: `user alice`, `token 3f2 (alice)`, `schedule nightly`. */
export function describeTrigger(trigger: Trigger | undefined): string {
  if (!trigger) return '—';
  if (trigger.type === 'user') return `user ${trigger.user ?? ''}`.trim();
  if (trigger.type === 'token') return `API token ${trigger.token ?? ''}${trigger.user ? ` (${trigger.user})` : ''}`;
  const name = trigger['job'] ?? trigger['hook'] ?? trigger['name'] ?? '';
  return `${trigger.type} ${String(name)}`.trim();
}
