/**
 * Who may do what: the roles, the permissions each grants (the one table docs/security.md mirrors), and the
 * `@RequirePermission()` every route declares. Pure functions; the global guard and the services call them.
 *
 * A grant is global or limited to a namespace (the part of a resource id before the dot). Namespaced
 * permissions (runbooks, executions) are checked against the resource's namespace; the others need a global grant.
 * A runbook's `access` narrows this further: `access.view` / `access.run` list the roles that may see / run it.
 */
import { SetMetadata } from '@nestjs/common';

export const ROLES = ['viewer', 'operator', 'editor', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface RoleGrant {
  role: Role;
  namespace?: string;
}

/** The caller of a request: a signed-in user, or a script acting through one of that user's API tokens. */
export interface Principal {
  username: string;
  roles: RoleGrant[];
  /** Set when the request came with an API token: its id, for the audit log. */
  tokenId?: string;
}

export const PERMISSIONS = [
  'runbooks:read',
  'runbooks:run',
  'runbooks:write',
  'executions:read',
  'executions:cancel-own',
  'executions:cancel-any',
  'nodes:read',
  /** Declare, change and remove SSH nodes. */
  'nodes:write',
  'audit:read',
  'users:read',
  'users:write',
  'secrets:read',
  'secrets:write',
  'hooks:read',
  'hooks:write',
  /** What every signed-in user may do for themselves: read `me`, manage their own API tokens. */
  'self',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Permissions that a namespaced grant gives within its namespace (and, for `self` and `nodes:read`, which belong
 * to no namespace, simply by being held); all others need a global grant.
 */
const NAMESPACED: ReadonlySet<Permission> = new Set([
  'self',
  'nodes:read',
  'runbooks:read',
  'runbooks:run',
  'runbooks:write',
  'executions:read',
  'executions:cancel-own',
  'executions:cancel-any',
]);

const VIEWER: Permission[] = ['self', 'runbooks:read', 'executions:read', 'nodes:read', 'hooks:read'];
const OPERATOR: Permission[] = [...VIEWER, 'runbooks:run', 'executions:cancel-own'];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set(VIEWER),
  operator: new Set(OPERATOR),
  editor: new Set([...OPERATOR, 'runbooks:write', 'nodes:write']),
  auditor: new Set([...VIEWER, 'audit:read', 'users:read', 'secrets:read']),
  admin: new Set(PERMISSIONS),
};

/** Roles that see every runbook whatever its `access.view` says: auditors read everything, admins do all. */
const SEES_ALL: ReadonlySet<Role> = new Set(['auditor', 'admin']);

export const REQUIRED_PERMISSION = 'baton:permission';

/** Declares the permission a route needs; the global guard refuses (403) callers without it in any scope. */
export const RequirePermission = (permission: Permission) => SetMetadata(REQUIRED_PERMISSION, permission);

/** The namespace of a resource id: `web.restart-nginx` -> `web`. */
export function namespaceOf(resourceId: string): string {
  return resourceId.split('.')[0];
}

/** The caller's roles that apply in a namespace (global grants plus grants for that namespace). */
export function rolesIn(principal: Principal, namespace?: string): Role[] {
  return principal.roles.filter((g) => g.namespace === undefined || g.namespace === namespace).map((g) => g.role);
}

/** Whether the caller holds the permission in the namespace (or globally when none is given). */
export function can(principal: Principal, permission: Permission, namespace?: string): boolean {
  const roles = NAMESPACED.has(permission) ? rolesIn(principal, namespace) : rolesIn(principal, undefined);
  return roles.some((role) => ROLE_PERMISSIONS[role].has(permission));
}

/** Whether the caller holds the permission anywhere: the coarse check made before the resource is known. */
export function canAnywhere(principal: Principal, permission: Permission): boolean {
  const grants = NAMESPACED.has(permission) ? principal.roles : principal.roles.filter((g) => g.namespace === undefined);
  return grants.some((g) => ROLE_PERMISSIONS[g.role].has(permission));
}

export interface RunbookAccess {
  id: string;
  access?: { run?: string[]; view?: string[] };
}

export function isAdmin(principal: Principal): boolean {
  return rolesIn(principal, undefined).includes('admin');
}

/** Global admins and auditors see every runbook and execution, so lists need no filtering for them. */
export function seesEveryRunbook(principal: Principal): boolean {
  return rolesIn(principal, undefined).some((r) => SEES_ALL.has(r));
}

/** May the caller see this runbook (and its executions)? Runbooks one may not see are absent from lists and 404. */
export function canViewRunbook(principal: Principal, runbook: RunbookAccess): boolean {
  const roles = rolesIn(principal, namespaceOf(runbook.id));
  if (roles.some((r) => SEES_ALL.has(r))) return true;
  const allowed = runbook.access?.view;
  return roles.some((role) => ROLE_PERMISSIONS[role].has('runbooks:read') && (!allowed || allowed.includes(role)));
}

/** May the caller run this runbook? `access.run: []` leaves it to admins alone. */
export function canRunRunbook(principal: Principal, runbook: RunbookAccess): boolean {
  const roles = rolesIn(principal, namespaceOf(runbook.id));
  if (roles.includes('admin')) return true;
  const allowed = runbook.access?.run;
  return roles.some((role) => ROLE_PERMISSIONS[role].has('runbooks:run') && (!allowed || allowed.includes(role)));
}

/** Roles a caller may hand to an API token: each no more than one the caller holds in the same scope or wider. */
export function isSubsetOf(wanted: RoleGrant[], held: RoleGrant[]): boolean {
  const covers = (h: RoleGrant, w: RoleGrant) =>
    (h.namespace === undefined || h.namespace === w.namespace) &&
    [...ROLE_PERMISSIONS[w.role]].every((p) => ROLE_PERMISSIONS[h.role].has(p));
  return wanted.every((w) => held.some((h) => covers(h, w)));
}
