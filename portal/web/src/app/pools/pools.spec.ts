import {
  actionStatusClass,
  describeActionStatus,
  describeChange,
  describeCooldown,
  describeDecision,
  describeRequester,
  describeScaleOutcome,
  describeSize,
  describeVerification,
  formatBounds,
  isMoving,
  pendingCount,
  previewScale,
  scaleFormErrors,
  scaleRequestBody,
  POOL_ACTION_STATUSES,
  type PoolAction,
  type PoolView,
  type ScaleForm,
} from './pools';

const pool = (overrides: Partial<PoolView> = {}): PoolView => ({
  id: 'demo.local-pool',
  selector: { labels: { pool: 'demo' } },
  min: 0,
  max: 5,
  cooldown: '30s',
  settleTimeout: '1m',
  operatorLimit: 3,
  scaleOut: { runbook: 'demo.pool-scale-out' },
  scaleIn: { runbook: 'demo.pool-scale-in', pick: 'newest' },
  desired: 2,
  actual: 2,
  nodes: ['demo-pool-1', 'demo-pool-2'],
  lastActionAt: null,
  cooldownUntil: null,
  sourceFile: 'demo/local-pool.yaml',
  updatedAt: '2026-01-01T00:00:00Z',
  ...overrides,
});

const action = (overrides: Partial<PoolAction> = {}): PoolAction => ({
  id: '6f1c2d3e-0000-4000-8000-000000000001',
  poolId: 'demo.local-pool',
  status: 'running',
  requestedBy: { type: 'user', user: 'olga', isAdmin: false },
  request: { by: 2 },
  reason: 'campaign tomorrow',
  isForced: false,
  from: 2,
  to: 4,
  nodes: [],
  executionId: null,
  decidedBy: null,
  message: null,
  verification: null,
  createdAt: '2026-01-01T00:00:00Z',
  startedAt: null,
  settleStartedAt: null,
  finishedAt: null,
  ...overrides,
});

const form = (overrides: Partial<ScaleForm> = {}): ScaleForm => ({
  mode: 'add',
  count: '2',
  reason: 'campaign tomorrow',
  isForced: false,
  ...overrides,
});

describe('pool size, bounds and cooldown', () => {
  it('shows desired against actual, and says when nothing was asked for yet', () => {
    expect(describeSize(pool({ desired: 3, actual: 2 }))).toBe('desired 3, actual 2');
    expect(describeSize(pool({ desired: null, actual: 1 }))).toBe('actual 1 (no desired size yet)');
    expect(formatBounds(pool({ min: 2, max: 10 }))).toBe('2–10');
  });

  it('says whether the pool is cooling down, and until when', () => {
    expect(describeCooldown(pool({ cooldown: '0s' }))).toBe('none');
    expect(describeCooldown(pool({ cooldown: '30s' }))).toBe('30s, not cooling down');
    const until = '2026-01-01T00:00:30Z';
    expect(describeCooldown(pool({ cooldownUntil: until }))).toBe(`cooling down until ${new Date(until).toLocaleString()}`);
  });
});

describe('actions', () => {
  it('names who or what asked', () => {
    expect(describeRequester({ type: 'user', user: 'olga', isAdmin: false })).toBe('olga');
    expect(describeRequester({ type: 'user', user: 'ci', isAdmin: false, token: 't1' })).toBe('ci (API token)');
    expect(describeRequester({ type: 'alert', rule: 'ops.high-load', hook: 'prod', fingerprint: 'f' })).toBe(
      'alert rule ops.high-load (hook prod)',
    );
    expect(describeRequester({ type: 'job', job: 'ops.nightly-scale' })).toBe('job ops.nightly-scale');
  });

  it('writes a change with its sign', () => {
    expect(describeChange({ from: 2, to: 4 })).toBe('2 → 4 (+2)');
    expect(describeChange({ from: 4, to: 3 })).toBe('4 → 3 (−1)');
    expect(describeChange({ from: 3, to: 3 })).toBe('3 → 3 (±0)');
  });

  it('has words and a colour for every state, and follows only running and settling ones', () => {
    for (const status of POOL_ACTION_STATUSES) {
      expect(describeActionStatus(status)).toBeTruthy();
      expect(actionStatusClass(status)).toBeTruthy();
    }
    expect(describeActionStatus('pending_approval')).toBe('waits for approval');
    expect(actionStatusClass('pending_approval')).toBe('pending');
    expect(actionStatusClass('settling')).toBe('running');
    expect(actionStatusClass('refused')).toBe('skipped');
    expect(POOL_ACTION_STATUSES.filter((status) => isMoving({ status }))).toEqual(['running', 'settling']);
  });

  it('says who approved or rejected', () => {
    expect(describeDecision({ status: 'running', decidedBy: null })).toBeNull();
    expect(describeDecision({ status: 'running', decidedBy: 'root' })).toBe('approved by root');
    expect(describeDecision({ status: 'rejected', decidedBy: 'root' })).toBe('rejected by root');
  });

  it('says what the verification saw', () => {
    const seen = { target: 4, actual: 4, nodes: ['a', 'b', 'c', 'd'], at: '2026-01-01T00:01:00Z' };
    expect(describeVerification(action({ status: 'succeeded', verification: seen }))).toBe('settled: 4 live, target 4 (seen: a, b, c, d)');
    expect(describeVerification(action({ status: 'failed', verification: { ...seen, actual: 0, nodes: [] } }))).toBe(
      'not settled: 0 live, target 4 (seen: none)',
    );
    expect(describeVerification(action({ status: 'settling' }))).toBe('waiting for the nodes to join (target 4)');
    expect(describeVerification(action({ status: 'settling', from: 4, to: 3 }))).toBe('waiting for the nodes to leave (target 3)');
    expect(describeVerification(action({ status: 'failed', message: 'the provider runbook failed' }))).toBeNull();
  });

  it('counts the actions that wait for an admin', () => {
    expect(
      pendingCount([action({ status: 'pending_approval' }), action({ status: 'running' }), action({ status: 'pending_approval' })]),
    ).toBe(2);
    expect(pendingCount([])).toBe(0);
  });

  it('tells a requester what became of the request', () => {
    expect(describeScaleOutcome(action({ status: 'running' }))).toBe('Scaling 2 → 4 (+2) started.');
    expect(describeScaleOutcome(action({ status: 'pending_approval', to: 6 }))).toMatch(
      /^Requested 2 → 6 \(\+4\): it waits for an admin's approval/,
    );
    expect(describeScaleOutcome(action({ status: 'refused', message: 'cooling down' }))).toBe('Request 2 → 4 (+2): refused: cooling down.');
  });
});

describe('scale form', () => {
  it('turns add, remove and scale-to into the request the API takes', () => {
    expect(scaleRequestBody(form({ mode: 'add', count: '2' }))).toEqual({ by: 2, reason: 'campaign tomorrow' });
    expect(scaleRequestBody(form({ mode: 'remove', count: ' 3 ', reason: '  quiet night ' }))).toEqual({ by: -3, reason: 'quiet night' });
    expect(scaleRequestBody(form({ mode: 'to', count: '0' }))).toEqual({ to: 0, reason: 'campaign tomorrow' });
    expect(scaleRequestBody(form({ isForced: true }))).toEqual({ by: 2, reason: 'campaign tomorrow', force: true });
  });

  it('requires a whole count within the API limits and a reason', () => {
    expect(scaleFormErrors(form())).toEqual({});
    expect(scaleFormErrors(form({ count: '' })).count).toBe('Say how many.');
    expect(scaleFormErrors(form({ count: '1.5' })).count).toBe('Write a whole number.');
    expect(scaleFormErrors(form({ count: '-2' })).count).toBe('Write a whole number.');
    expect(scaleFormErrors(form({ count: '0' })).count).toBe('Between 1 and 1000.');
    expect(scaleFormErrors(form({ mode: 'remove', count: '1001' })).count).toBe('Between 1 and 1000.');
    expect(scaleFormErrors(form({ mode: 'to', count: '10001' })).count).toBe('Between 0 and 10000.');
    expect(scaleFormErrors(form({ reason: '   ' })).reason).toMatch(/^Say why/);
    expect(scaleFormErrors(form({ reason: 'x'.repeat(501) })).reason).toBe('At most 500 characters.');
    expect(scaleRequestBody(form({ reason: '' }))).toBeNull();
  });

  it('previews the new size, and says when the portal will refuse or wait for an admin', () => {
    expect(previewScale(pool({ desired: 2 }), { by: 2 }, false)).toBe('Desired goes from 2 to 4.');
    // Before the first action the live count is the start, as on the server.
    expect(previewScale(pool({ desired: null, actual: 1 }), { to: 3 }, false)).toBe('Desired goes from 1 to 3.');
    expect(previewScale(pool({ desired: 2 }), { to: 2 }, false)).toMatch(/already at 2: nothing would change/);
    expect(previewScale(pool({ desired: 4 }), { by: 2 }, false)).toMatch(/to 6, above its max of 5: the portal will refuse it/);
    expect(previewScale(pool({ desired: 1 }), { by: -2 }, false)).toMatch(/to -1, below its min of 0/);
    expect(previewScale(pool({ desired: 0, operatorLimit: 1 }), { by: 2 }, false)).toMatch(
      /operator limit of 1: it waits for an admin's approval/,
    );
    expect(previewScale(pool({ desired: 0, operatorLimit: 1 }), { by: 2 }, true)).toBe('Desired goes from 0 to 2.');
  });

  it('warns that a cooling-down pool refuses a request unless an admin forces it', () => {
    const cooling = pool({ cooldownUntil: '2026-01-01T00:00:30Z' });
    expect(previewScale(cooling, { by: 1 }, false)).toMatch(/cooling down until .*: the portal will refuse it \(an admin may force it\)/);
    expect(previewScale(cooling, { by: 1 }, true)).toMatch(/tick "Force"/);
    expect(previewScale(cooling, { by: 1, force: true }, true)).toBe('Desired goes from 2 to 3.');
  });
});
