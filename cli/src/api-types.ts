/**
 * The API's answers, as far as the CLI reads them. Hand-written for the routes the CLI calls, because the
 * OpenAPI document does not describe response bodies yet; replace with the client generated from
 * portal/api/openapi.json once it does. Resource specs come from `shared` (inferred from its schemas).
 */
import type { Job, Pool, Runbook } from '@baton/shared';

export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
}

export interface Me {
  username: string;
  roles?: unknown;
  tokenId?: string;
}

/** `{ statusCode, error, message, details? }`: every API error. */
export interface ApiErrorBody {
  statusCode?: number;
  error?: string;
  message?: string | string[];
  details?: { field?: string; message?: string }[];
}

export type Targets = { names?: string[]; labels?: Record<string, string>; local?: boolean; concurrency?: number; maxFailures?: number };

export interface RunbookSummary {
  id: string;
  namespace: string;
  title: string;
  description?: string;
  tags: string[];
  params: NonNullable<Runbook['params']>;
  targets?: Runbook['targets'];
  version: string;
}

export type RunbookDetail = Runbook & { version: string; sourceFile: string | null; updatedAt: string };

export interface StartedExecution {
  id: string;
  status: string;
}

export interface ExecutionSummary {
  id: string;
  status: string;
  reason?: string;
  runbook: string;
  runbookVersion: string;
  trigger: { type: string; user?: string; job?: string; [key: string]: unknown };
  actor: string;
  params: Record<string, string | number | boolean>;
  targets: Targets;
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

export interface ExecutionDetail extends ExecutionSummary {
  /** The execution this one runs again, and the ones that run this one again. */
  rerunOf?: string;
  reruns?: string[];
  nodes: {
    node: string;
    executor: string;
    status: string;
    reason?: string;
    startedAt: string | null;
    finishedAt: string | null;
    steps: StepRunView[];
  }[];
}

/** One `event: log` of the live log stream. */
export interface LogEvent {
  node: string;
  step: string;
  stream: 'stdout' | 'stderr' | string;
  data: string;
}

export interface NodeView {
  name: string;
  executor: string;
  status: string;
  labels: Record<string, string>;
  lastSeen: string | null;
  hostname?: string | null;
  version?: string | null;
}

export type JobView = Omit<Job, 'apiVersion' | 'kind'> & {
  sourceFile: string | null;
  createdBy: string;
  nextFireTimes: string[];
};

export interface JobRun {
  id: string;
  job: string;
}

export type PoolView = Omit<Pool, 'apiVersion' | 'kind'> & {
  desired: number | null;
  actual: number;
  nodes: string[];
  lastActionAt: string | null;
  cooldownUntil: string | null;
};

export interface PoolAction {
  id: string;
  poolId: string;
  status: string;
  from: number;
  to: number;
  reason: string;
  executionId: string | null;
  message: string | null;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstBadSeq?: number;
  reason?: string;
  head?: { seq: number; hash: string };
}

/** A run's approval: the policy it waits under and the decisions so far. */
export interface ApprovalView {
  required: number;
  approvers: { roles?: string[]; users?: string[] };
  requestedBy: string;
  timeoutAt: string;
  decisions: { user: string; decision: 'approved' | 'rejected'; comment: string | null; at: string }[];
}

export interface PendingApproval {
  id: string;
  runbook: string;
  actor: string;
  createdAt: string;
  approval: ApprovalView;
}
