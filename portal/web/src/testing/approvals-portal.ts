/**
 * A fake portal holding runs that wait for approval, for the specs of the Approvals page, the badge and the execution
 * page: the inbox (`GET /approvals`), each run (`GET /executions/:id`) and its decisions (`POST .../approve`,
 * `.../reject`) change and refuse as the API's ApprovalsService does (four eyes, named approvers, one decision each,
 * enough approvals queue the run, one rejection ends it, a comment is required to reject).
 */
import type { ApprovalDecision, ApprovalView } from '../app/approvals/approval';
import type { Principal } from '../app/core/permissions';
import type { ExecutionDetail } from '../app/executions/execution';
import { FakePortal, Reply, apiError, ok } from './fake-portal';

export interface WaitingRun {
  id: string;
  runbook: string;
  status: string;
  reason?: string;
  createdAt: string;
  approval: ApprovalView;
  /** Who the API refuses beyond its rules (four eyes; not an admin, a named user or of an approver role), and how. */
  refusals: Record<string, string>;
}

let counter = 0;

/** A run of ap.restart requested by alice, waiting for 2 approvals from editors or carol. */
export function waitingRun(overrides: Partial<WaitingRun> = {}): WaitingRun {
  counter++;
  const hex = counter.toString(16).padStart(8, '0');
  return {
    id: `${hex}-1111-4111-8111-111111111111`,
    runbook: 'ap.restart',
    status: 'waiting',
    createdAt: '2025-03-01T10:00:00.000Z',
    approval: {
      required: 2,
      approvers: { roles: ['editor'], users: ['carol'] },
      requestedBy: 'alice',
      timeoutAt: '2099-03-01T14:00:00.000Z',
      decisions: [],
    },
    refusals: {},
    ...overrides,
  };
}

/** The execution as `GET /executions/:id` shows it. */
export function executionOf(run: WaitingRun): ExecutionDetail {
  const hasEnded = run.status === 'rejected' || run.status === 'timed_out' || run.status === 'succeeded';
  return {
    id: run.id,
    status: run.status,
    ...(run.reason ? { reason: run.reason } : {}),
    runbook: run.runbook,
    runbookVersion: 'f00dfeedcafe0000',
    trigger: { type: 'user', user: run.approval.requestedBy },
    actor: run.approval.requestedBy,
    params: { stage: 'prod' },
    createdAt: run.createdAt,
    startedAt: null,
    finishedAt: hasEnded ? '2025-03-01T10:30:00.000Z' : null,
    nodes: [{ node: 'local', executor: 'local', status: hasEnded ? 'cancelled' : 'queued', startedAt: null, finishedAt: null, steps: [] }],
    approval: run.approval,
  };
}

export interface ApprovalsPortal {
  portal: FakePortal;
  runs: Map<string, WaitingRun>;
}

/** A portal where `me` is signed in and these runs exist. */
export function approvalsPortal(me: Principal, runs: WaitingRun[]): ApprovalsPortal {
  const state = new Map(runs.map((r) => [r.id, JSON.parse(JSON.stringify(r)) as WaitingRun]));
  const refusalFor = (run: WaitingRun, decision: ApprovalDecision): string | undefined => {
    if (decision === 'approved' && run.approval.requestedBy === me.username)
      return 'four eyes: the requester may not approve their own run';
    if (run.refusals[me.username]) return run.refusals[me.username];
    const { roles = [], users = [] } = run.approval.approvers;
    const isApprover = me.roles.some((g) => g.role === 'admin' || roles.includes(g.role)) || users.includes(me.username);
    if (isApprover) return undefined;
    return `only ${[...roles.map((r) => `role ${r}`), ...users.map((u) => `user ${u}`)].join(', ')} may decide this run`;
  };
  const portal = new FakePortal().on('GET', '/api/v1/auth/me', ok(me)).on('GET', '/api/v1/approvals', () =>
    ok(
      [...state.values()]
        .filter((run) => run.status === 'waiting')
        .filter((run) => !run.approval.decisions.some((d) => d.user === me.username))
        .filter((run) => refusalFor(run, 'approved') === undefined)
        .map(({ id, runbook, createdAt, approval }) => ({ id, runbook, actor: approval.requestedBy, createdAt, approval })),
    ),
  );
  for (const id of state.keys()) {
    portal.on('GET', `/api/v1/executions/${id}`, () => ok(executionOf(state.get(id)!)));
    portal.on('POST', `/api/v1/executions/${id}/approve`, (request) => decide(state.get(id)!, 'approved', request.body));
    portal.on('POST', `/api/v1/executions/${id}/reject`, (request) => decide(state.get(id)!, 'rejected', request.body));
  }
  function decide(run: WaitingRun, decision: ApprovalDecision, body: unknown): Reply {
    const comment = (body as { comment?: string }).comment?.trim() ?? '';
    if (decision === 'rejected' && !comment) return apiError(400, 'Bad Request', 'comment: required to reject (say why)');
    if (run.status !== 'waiting') return apiError(409, 'Conflict', `execution ${run.id} is ${run.status}: there is nothing to decide`);
    const refusal = refusalFor(run, decision);
    if (refusal) return apiError(403, 'Forbidden', refusal);
    if (run.approval.decisions.some((d) => d.user === me.username)) {
      return apiError(409, 'Conflict', `${me.username} has already decided execution ${run.id}`);
    }
    run.approval.decisions.push({ user: me.username, decision, comment: comment || null, at: '2025-03-01T10:20:00.000Z' });
    if (decision === 'rejected') {
      run.status = 'rejected';
      run.reason = `rejected by ${me.username}: ${comment}`;
    } else if (run.approval.decisions.filter((d) => d.decision === 'approved').length >= run.approval.required) {
      run.status = 'queued';
    }
    return ok(run.approval);
  }
  return { portal, runs: state };
}
