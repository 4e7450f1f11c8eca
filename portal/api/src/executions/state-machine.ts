/**
 * The allowed state transitions of executions and node runs, in one table each and checked in one place.
 * Terminal states have no way out; every other state has at least one, so nothing stays running forever.
 */
export const EXECUTION_STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'timed_out', 'rejected'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const NODE_RUN_STATUSES = [
  'queued',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'unreachable',
  'lost',
] as const;
export type NodeRunStatus = (typeof NODE_RUN_STATUSES)[number];

const EXECUTION_TRANSITIONS: Record<ExecutionStatus, readonly ExecutionStatus[]> = {
  queued: ['running', 'failed', 'cancelled'],
  running: ['waiting', 'succeeded', 'failed', 'cancelled', 'timed_out'],
  // Waiting for approval: approved -> queued, refused -> rejected; or waiting for input mid-run -> running.
  waiting: ['queued', 'running', 'failed', 'cancelled', 'timed_out', 'rejected'],
  succeeded: [],
  failed: [],
  cancelled: [],
  timed_out: [],
  rejected: [],
};

const NODE_RUN_TRANSITIONS: Record<NodeRunStatus, readonly NodeRunStatus[]> = {
  queued: ['running', 'failed', 'cancelled', 'unreachable', 'timed_out', 'lost'],
  running: ['waiting', 'succeeded', 'failed', 'cancelled', 'timed_out', 'lost'],
  waiting: ['running', 'failed', 'cancelled', 'timed_out', 'lost'],
  succeeded: [],
  failed: [],
  cancelled: [],
  timed_out: [],
  unreachable: [],
  lost: [],
};

export function isTerminalExecution(status: ExecutionStatus): boolean {
  return EXECUTION_TRANSITIONS[status].length === 0;
}

export function isTerminalNodeRun(status: NodeRunStatus): boolean {
  return NODE_RUN_TRANSITIONS[status].length === 0;
}

/** The states from which `to` may be reached: used as the WHERE clause of every status update. */
export function executionStatesLeadingTo(to: ExecutionStatus): ExecutionStatus[] {
  return EXECUTION_STATUSES.filter((from) => EXECUTION_TRANSITIONS[from].includes(to));
}

/**
 * The states from which a node run may move to `to`. A move decided on an earlier view of the run (the watchdog's)
 * passes the state it saw as `seen`: the move then lands only if the run is still in that state, and never if
 * that state cannot lead to `to`.
 */
export function nodeRunStatesLeadingTo(to: NodeRunStatus, seen?: NodeRunStatus): NodeRunStatus[] {
  return NODE_RUN_STATUSES.filter((from) => NODE_RUN_TRANSITIONS[from].includes(to) && (seen === undefined || from === seen));
}

/** How an execution ends, given how its node runs ended. */
export function executionOutcome(nodeStatuses: NodeRunStatus[], cancelRequested: boolean): ExecutionStatus {
  if (nodeStatuses.every((s) => s === 'succeeded')) return 'succeeded';
  if (cancelRequested) return 'cancelled';
  if (nodeStatuses.some((s) => s === 'timed_out')) return 'timed_out';
  return 'failed';
}
