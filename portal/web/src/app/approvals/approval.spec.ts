import {
  ApprovalView,
  approvalProgress,
  describeApprovers,
  describeOutcome,
  describePolicy,
  describeProgress,
  formatTimeLeft,
  whyNotDeciding,
} from './approval';

function approval(overrides: Partial<ApprovalView> = {}): ApprovalView {
  return {
    required: 2,
    approvers: { roles: ['editor'], users: ['carol'] },
    requestedBy: 'alice',
    timeoutAt: '2025-03-01T14:00:00.000Z',
    decisions: [],
    ...overrides,
  };
}

const bobApproved = { user: 'bob', decision: 'approved' as const, comment: 'looks right', at: '2025-03-01T10:05:00.000Z' };

describe('approvals in words', () => {
  it('names who may decide, admins always included', () => {
    expect(describeApprovers({ roles: ['editor'], users: ['carol'] })).toBe('role editor, user carol, or an admin');
    expect(describeApprovers({ users: ['carol'] })).toBe('user carol or an admin');
    expect(describeApprovers({ roles: ['admin'] })).toBe('an admin');
    expect(describeApprovers({})).toBe('an admin');
  });

  it('counts approvals given and missing; a rejection is no approval', () => {
    const rejected = { user: 'dave', decision: 'rejected' as const, comment: 'no', at: '2025-03-01T10:06:00.000Z' };
    expect(approvalProgress(approval({ decisions: [bobApproved, rejected] }))).toEqual({ given: 1, required: 2, missing: 1 });
    expect(describeProgress({ given: 1, required: 2, missing: 1 })).toBe('1 of 2 approvals');
    expect(describeProgress({ given: 0, required: 1, missing: 1 })).toBe('0 of 1 approval');
  });

  it('says how long is left before the run times out', () => {
    const at = Date.parse('2025-03-01T14:00:00.000Z');
    expect(formatTimeLeft('2025-03-01T14:00:00.000Z', at - 45_000)).toBe('45 s left');
    expect(formatTimeLeft('2025-03-01T14:00:00.000Z', at - 12 * 60_000)).toBe('12 min left');
    expect(formatTimeLeft('2025-03-01T14:00:00.000Z', at - (3 * 60 + 59) * 60_000)).toBe('3 h 59 min left');
    expect(formatTimeLeft('2025-03-01T14:00:00.000Z', at - 52 * 3_600_000)).toBe('2 d 4 h left');
    expect(formatTimeLeft('2025-03-01T14:00:00.000Z', at + 1)).toBe('time is up');
  });

  it('says what a decision did to the run', () => {
    expect(describeOutcome('ap.restart', 'approved', approval({ decisions: [bobApproved] }))).toBe(
      'Approved: the run of ap.restart still needs 1 more approval.',
    );
    expect(describeOutcome('ap.restart', 'approved', approval({ required: 1, decisions: [bobApproved] }))).toBe(
      'Approved: the run of ap.restart has the approvals it needs and starts as soon as the queue allows.',
    );
    expect(describeOutcome('ap.restart', 'rejected', approval())).toBe('Rejected: the run of ap.restart will not start.');
  });

  it('tells someone without Approve and Reject why: decided already, asked for it, or not an approver', () => {
    expect(whyNotDeciding('bob', approval({ decisions: [bobApproved] }))).toBe(
      'You approved this run. It still needs 1 more approval from role editor, user carol, or an admin.',
    );
    expect(whyNotDeciding('alice', approval())).toBe(
      'You requested this run: approval must come from someone else (role editor, user carol, or an admin).',
    );
    expect(whyNotDeciding('eve', approval())).toBe('Only role editor, user carol, or an admin may decide this run.');
  });

  it("describes a runbook's approval rule", () => {
    expect(describePolicy({ required: 2, approvers: { roles: ['editor'] }, when: { param: 'stage', in: ['prod'] }, timeout: '4h' })).toBe(
      'Runs with stage = prod wait for 2 approvals from role editor or an admin before they start, and time out undecided after 4h.',
    );
    expect(describePolicy({ required: 1, approvers: { roles: ['admin'] }, timeout: '30m' })).toBe(
      'Runs wait for 1 approval from an admin before they start, and time out undecided after 30m.',
    );
  });
});
