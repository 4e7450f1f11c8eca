import { can, canAnywhere, canRunRunbook, canViewRunbook, isSubsetOf, type Principal, type RoleGrant } from './permissions';

const who = (...roles: RoleGrant[]): Principal => ({ username: 'u', roles });

describe('permissions', () => {
  it('gives namespaced grants their permissions only inside the namespace', () => {
    const webOperator = who({ role: 'operator', namespace: 'web' });
    expect(can(webOperator, 'runbooks:run', 'web')).toBe(true);
    expect(can(webOperator, 'runbooks:run', 'db')).toBe(false);
    expect(canAnywhere(webOperator, 'runbooks:run')).toBe(true);
  });

  it('needs a global grant for global permissions such as audit:read and users:write', () => {
    expect(canAnywhere(who({ role: 'auditor', namespace: 'web' }), 'audit:read')).toBe(false);
    expect(canAnywhere(who({ role: 'auditor' }), 'audit:read')).toBe(true);
    expect(canAnywhere(who({ role: 'admin', namespace: 'web' }), 'users:write')).toBe(false);
  });

  it('lets every signed-in role, even namespaced, act for itself and read nodes', () => {
    const namespaced = who({ role: 'viewer', namespace: 'web' });
    expect(canAnywhere(namespaced, 'self')).toBe(true);
    expect(canAnywhere(namespaced, 'nodes:read')).toBe(true);
    expect(canAnywhere(who(), 'self')).toBe(false);
  });

  it('keeps auditors from changing anything', () => {
    const auditor = who({ role: 'auditor' });
    for (const p of ['runbooks:run', 'runbooks:write', 'users:write', 'secrets:write', 'hooks:write', 'executions:cancel-own'] as const) {
      expect(canAnywhere(auditor, p)).toBe(false);
    }
  });

  describe('runbook access', () => {
    const open = { id: 'web.restart' };
    const adminOnly = { id: 'demo.admin-only', access: { run: [] } };
    const viewersOnlyForEditors = { id: 'web.deploy', access: { view: ['editor'], run: ['editor'] } };

    it('lets viewers see and operators run a runbook without access rules', () => {
      expect(canViewRunbook(who({ role: 'viewer' }), open)).toBe(true);
      expect(canRunRunbook(who({ role: 'viewer' }), open)).toBe(false);
      expect(canRunRunbook(who({ role: 'operator', namespace: 'web' }), open)).toBe(true);
      expect(canRunRunbook(who({ role: 'operator', namespace: 'db' }), open)).toBe(false);
    });

    it('lets a role that includes a listed one in: editors run what operators may, operators see what viewers may', () => {
      const forOperators = { id: 'demo.hello', access: { run: ['operator'], view: ['viewer'] } };
      expect(canRunRunbook(who({ role: 'editor' }), forOperators)).toBe(true);
      expect(canViewRunbook(who({ role: 'operator' }), forOperators)).toBe(true);
      expect(canRunRunbook(who({ role: 'viewer' }), forOperators)).toBe(false);
      expect(canRunRunbook(who({ role: 'operator' }), { id: 'web.x', access: { run: ['root'] } })).toBe(false);
    });

    it('leaves access.run: [] to admins alone', () => {
      expect(canRunRunbook(who({ role: 'operator' }), adminOnly)).toBe(false);
      expect(canRunRunbook(who({ role: 'editor' }), adminOnly)).toBe(false);
      expect(canRunRunbook(who({ role: 'admin' }), adminOnly)).toBe(true);
    });

    it('narrows view by access.view, except for auditors and admins', () => {
      expect(canViewRunbook(who({ role: 'operator' }), viewersOnlyForEditors)).toBe(false);
      expect(canViewRunbook(who({ role: 'editor' }), viewersOnlyForEditors)).toBe(true);
      expect(canViewRunbook(who({ role: 'auditor' }), viewersOnlyForEditors)).toBe(true);
      expect(canRunRunbook(who({ role: 'auditor' }), viewersOnlyForEditors)).toBe(false);
    });
  });

  describe('token roles', () => {
    it('allows the same or lesser roles in the same or a narrower scope', () => {
      const held: RoleGrant[] = [{ role: 'operator' }];
      expect(isSubsetOf([{ role: 'operator' }], held)).toBe(true);
      expect(isSubsetOf([{ role: 'viewer', namespace: 'web' }], held)).toBe(true);
      expect(isSubsetOf([{ role: 'editor' }], held)).toBe(false);
      expect(isSubsetOf([{ role: 'auditor' }], held)).toBe(false);
    });

    it('refuses widening a namespaced grant to a global one', () => {
      expect(isSubsetOf([{ role: 'viewer' }], [{ role: 'admin', namespace: 'web' }])).toBe(false);
    });
  });
});
