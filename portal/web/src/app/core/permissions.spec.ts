import {
  canApprovePools,
  canCancel,
  canEditJobs,
  canReadAudit,
  canReadPools,
  formatRoleGrants,
  isAdmin,
  parseRoleGrants,
  whyCannotRun,
  whyCannotScale,
  type Principal,
  type RoleGrant,
} from './permissions';

const user = (username: string, ...roles: Principal['roles']): Principal => ({ username, roles });

describe('UI permissions (mirror of the API rules)', () => {
  const hello = { id: 'demo.hello', access: { run: ['operator'], view: ['viewer'] } };
  const adminOnly = { id: 'demo.admin-only', access: { run: [], view: ['viewer'] } };

  it('lets operators run what access.run allows, admins everything, and says why not otherwise', () => {
    expect(whyCannotRun(user('o', { role: 'operator' }), hello)).toBeNull();
    expect(whyCannotRun(user('a', { role: 'admin' }), adminOnly)).toBeNull();
    expect(whyCannotRun(user('o', { role: 'operator' }), adminOnly)).toBe('Only admins may run this runbook.');
    // Editors include operators: `run: [operator]` admits them, as on the server.
    expect(whyCannotRun(user('e', { role: 'editor' }), hello)).toBeNull();
    expect(whyCannotRun(user('o', { role: 'operator' }), { id: 'demo.x', access: { run: ['editor'] } })).toMatch(/editor/);
    expect(whyCannotRun(user('v', { role: 'viewer' }), { id: 'web.x' })).toMatch(/do not allow/);
    expect(whyCannotRun(user('o', { role: 'operator', namespace: 'web' }), hello)).not.toBeNull();
    expect(whyCannotRun(user('o', { role: 'operator', namespace: 'demo' }), hello)).toBeNull();
  });

  it('lets operators cancel their own runs and admins anyone’s', () => {
    const run = { runbook: 'demo.hello', actor: 'olga' };
    expect(canCancel(user('olga', { role: 'operator' }), run)).toBe(true);
    expect(canCancel(user('oscar', { role: 'operator' }), run)).toBe(false);
    expect(canCancel(user('olga', { role: 'viewer' }), run)).toBe(false);
    expect(canCancel(user('root', { role: 'admin' }), run)).toBe(true);
  });

  it('shows Audit to global auditors and admins, Admin to global admins only', () => {
    expect(canReadAudit(user('a', { role: 'auditor' }))).toBe(true);
    expect(canReadAudit(user('a', { role: 'auditor', namespace: 'web' }))).toBe(false);
    expect(canReadAudit(user('o', { role: 'operator' }))).toBe(false);
    expect(isAdmin(user('a', { role: 'auditor' }))).toBe(false);
    expect(isAdmin(user('r', { role: 'admin' }))).toBe(true);
  });

  it('reads and writes role grants as "role" or "role:namespace"', () => {
    expect(parseRoleGrants('operator, viewer:web')).toEqual({ grants: [{ role: 'operator' }, { role: 'viewer', namespace: 'web' }] });
    expect(parseRoleGrants('')).toEqual({ grants: [] });
    expect(parseRoleGrants('root')).toEqual({ error: expect.stringMatching(/"root" is not a role/) });
    expect(parseRoleGrants('viewer:')).toEqual({ error: expect.stringMatching(/role:namespace/) });
    expect(formatRoleGrants([{ role: 'operator' }, { role: 'viewer', namespace: 'web' }])).toBe('operator, viewer:web');
  });
});

describe('canEditJobs', () => {
  const who = (...roles: RoleGrant[]): Principal => ({ username: 'u', roles });
  it('admits global editors and admins only', () => {
    expect(canEditJobs(who({ role: 'editor' }))).toBe(true);
    expect(canEditJobs(who({ role: 'admin' }))).toBe(true);
    expect(canEditJobs(who({ role: 'operator' }, { role: 'auditor' }))).toBe(false);
    expect(canEditJobs(who({ role: 'editor', namespace: 'ops' }))).toBe(false);
  });
});

describe('pool permissions', () => {
  const who = (...roles: RoleGrant[]): Principal => ({ username: 'u', roles });

  it('lets every role read pools, in its namespace when the grant has one', () => {
    for (const role of ['viewer', 'operator', 'editor', 'auditor', 'admin'] as const) expect(canReadPools(who({ role }))).toBe(true);
    expect(canReadPools(who())).toBe(false);
    expect(canReadPools(who({ role: 'viewer', namespace: 'web' }))).toBe(true);
    expect(canReadPools(who({ role: 'viewer', namespace: 'web' }), 'web.pool')).toBe(true);
    expect(canReadPools(who({ role: 'viewer', namespace: 'web' }), 'demo.local-pool')).toBe(false);
  });

  it('lets operators, editors and admins scale, not viewers or auditors, and says why not', () => {
    expect(whyCannotScale(who({ role: 'operator' }), 'demo.local-pool')).toBeNull();
    expect(whyCannotScale(who({ role: 'editor' }), 'demo.local-pool')).toBeNull();
    expect(whyCannotScale(who({ role: 'admin' }), 'demo.local-pool')).toBeNull();
    expect(whyCannotScale(who({ role: 'viewer' }), 'demo.local-pool')).toMatch(/do not allow scaling/);
    expect(whyCannotScale(who({ role: 'auditor' }), 'demo.local-pool')).toMatch(/operator, editor or admin/);
    expect(whyCannotScale(who({ role: 'operator', namespace: 'web' }), 'web.pool')).toBeNull();
    expect(whyCannotScale(who({ role: 'operator', namespace: 'web' }), 'demo.local-pool')).not.toBeNull();
  });

  it('leaves approval to global admins', () => {
    expect(canApprovePools(who({ role: 'admin' }))).toBe(true);
    expect(canApprovePools(who({ role: 'admin', namespace: 'demo' }))).toBe(false);
    expect(canApprovePools(who({ role: 'editor' }, { role: 'operator' }))).toBe(false);
  });
});
