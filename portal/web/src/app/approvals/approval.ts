/**
 * Four-eyes approvals as the API shows them (`GET /approvals`, `approval` on `GET /executions/:id`), and the words the
 * pages use for them: who may decide, how many approvals are still missing, how long is left, what a decision did, and
 * why someone sees no buttons. The API decides every request; these only say what it will do.
 */

export type ApprovalDecision = 'approved' | 'rejected';

export interface ApprovalDecisionView {
  user: string;
  decision: ApprovalDecision;
  comment: string | null;
  at: string;
}

/** The approval a run needed and the decisions taken on it. */
export interface ApprovalView {
  required: number;
  approvers: { roles?: string[]; users?: string[] };
  requestedBy: string;
  timeoutAt: string;
  decisions: ApprovalDecisionView[];
}

/** A run the caller may decide now (`GET /approvals`). */
export interface PendingApproval {
  id: string;
  runbook: string;
  actor: string;
  createdAt: string;
  approval: ApprovalView;
}

/** `role editor, user carol, or an admin`: admins may always decide. */
export function describeApprovers(approvers: ApprovalView['approvers']): string {
  const named = [
    ...(approvers.roles ?? []).filter((role) => role !== 'admin').map((role) => `role ${role}`),
    ...(approvers.users ?? []).map((u) => `user ${u}`),
  ];
  if (named.length === 0) return 'an admin';
  if (named.length === 1) return `${named[0]} or an admin`;
  return `${named.join(', ')}, or an admin`;
}

export interface ApprovalProgress {
  given: number;
  required: number;
  /** Approvals still missing before the run is queued (0 once enough were given). */
  missing: number;
}

export function approvalProgress(approval: Pick<ApprovalView, 'required' | 'decisions'>): ApprovalProgress {
  const given = approval.decisions.filter((d) => d.decision === 'approved').length;
  return { given, required: approval.required, missing: Math.max(approval.required - given, 0) };
}

/** `1 of 2 approvals`. */
export function describeProgress(progress: ApprovalProgress): string {
  return `${progress.given} of ${progress.required} approval${progress.required === 1 ? '' : 's'}`;
}

/** How long until the approval times out: `45 s left`, `12 min left`, `3 h 59 min left`, `2 d 4 h left`, `time is up`. */
export function formatTimeLeft(timeoutAt: string, nowMs: number): string {
  const ms = new Date(timeoutAt).getTime() - nowMs;
  if (Number.isNaN(ms)) return '';
  if (ms <= 0) return 'time is up';
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s left`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min left`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min left`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h left`;
}

/** What a decision the portal accepted did to the run, from the approval it answered with. */
export function describeOutcome(runbook: string, decision: ApprovalDecision, approval: ApprovalView): string {
  if (decision === 'rejected') return `Rejected: the run of ${runbook} will not start.`;
  const { missing } = approvalProgress(approval);
  if (missing === 0) return `Approved: the run of ${runbook} has the approvals it needs and starts as soon as the queue allows.`;
  return `Approved: the run of ${runbook} still needs ${missing} more approval${missing === 1 ? '' : 's'}.`;
}

/**
 * Why the caller is offered no Approve or Reject on a waiting run that is not in their inbox: they decided already,
 * they asked for it (four eyes), or they are not among the approvers.
 */
export function whyNotDeciding(username: string | null, approval: ApprovalView): string {
  const who = describeApprovers(approval.approvers);
  const own = approval.decisions.find((d) => d.user === username);
  if (own) {
    const { missing } = approvalProgress(approval);
    const rest =
      own.decision === 'approved' && missing > 0 ? ` It still needs ${missing} more approval${missing === 1 ? '' : 's'} from ${who}.` : '';
    return `You ${own.decision} this run.${rest}`;
  }
  if (username !== null && username === approval.requestedBy)
    return `You requested this run: approval must come from someone else (${who}).`;
  return `Only ${who} may decide this run.`;
}

/** A runbook's approval rule in words, for its page: `Runs with stage = prod wait for 2 approvals from …`. */
export function describePolicy(policy: {
  required: number;
  approvers: ApprovalView['approvers'];
  when?: { param: string; in: (string | number | boolean)[] };
  timeout: string;
}): string {
  const values = policy.when?.in.map(String) ?? [];
  const runs = policy.when
    ? `Runs with ${policy.when.param} ${values.length === 1 ? `= ${values[0]}` : `in ${values.join(', ')}`}`
    : 'Runs';
  const approvals = `${policy.required} approval${policy.required === 1 ? '' : 's'}`;
  return `${runs} wait for ${approvals} from ${describeApprovers(policy.approvers)} before they start, and time out undecided after ${policy.timeout}.`;
}
