/**
 * Who may do what: the roles, the permissions each grants (the one table docs/security.md mirrors), and the
 * `@RequirePermission()` every route declares. Pure functions; the global guard and the services call them.
 *
 * A grant is global or limited to a namespace (the part of a resource id before the dot). Namespaced
 * permissions (runbooks, executions) are checked against the resource's namespace; the others need a global grant.
 * A runbook's `access` narrows this further: `access.view` / `access.run` list the roles that may see / run it;
 * a role also satisfies an entry naming a lesser role (`run: [operator]` lets editors run too).
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
  'pools:read',
  /** Ask a pool to grow or shrink (within its operatorLimit without approval). */
  'pools:scale',
  'pools:write',
  /** Approve or reject scaling beyond operatorLimit; force a request during the cooldown. */
  'pools:approve',
  /** See enrollment requests and tokens; accept, reject and revoke agents; create and revoke enrollment tokens. */
  'agents:manage',
  /** Create, change and delete notifiers; see their deliveries; send a test message. */
  'notifiers:manage',
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
  'pools:read',
  'pools:scale',
  'pools:write',
]);

const VIEWER: Permission[] = ['self', 'runbooks:read', 'executions:read', 'nodes:read', 'hooks:read', 'pools:read'];
const OPERATOR: Permission[] = [...VIEWER, 'runbooks:run', 'executions:cancel-own', 'pools:scale'];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set(VIEWER),
  operator: new Set(OPERATOR),
  editor: new Set([...OPERATOR, 'runbooks:write', 'pools:write', 'nodes:write']),
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

/** Whether a role holds every permission of another: editor includes operator includes viewer; admin includes all. */
export function includesRole(role: Role, other: Role): boolean {
  return [...ROLE_PERMISSIONS[other]].every((p) => ROLE_PERMISSIONS[role].has(p));
}

/** Whether a role satisfies a runbook `access` list: absent means no narrowing; unknown names match nobody. */
function isAllowedBy(role: Role, allowed: string[] | undefined): boolean {
  return !allowed || allowed.some((entry) => (ROLES as readonly string[]).includes(entry) && includesRole(role, entry as Role));
}

/** May the caller see this runbook (and its executions)? Runbooks one may not see are absent from lists and 404. */
export function canViewRunbook(principal: Principal, runbook: RunbookAccess): boolean {
  const roles = rolesIn(principal, namespaceOf(runbook.id));
  if (roles.some((r) => SEES_ALL.has(r))) return true;
  return roles.some((role) => ROLE_PERMISSIONS[role].has('runbooks:read') && isAllowedBy(role, runbook.access?.view));
}

/** May the caller run this runbook? `access.run: []` leaves it to admins alone. */
export function canRunRunbook(principal: Principal, runbook: RunbookAccess): boolean {
  const roles = rolesIn(principal, namespaceOf(runbook.id));
  if (roles.includes('admin')) return true;
  return roles.some((role) => ROLE_PERMISSIONS[role].has('runbooks:run') && isAllowedBy(role, runbook.access?.run));
}

/** Roles a caller may hand to an API token: each no more than one the caller holds in the same scope or wider. */
export function isSubsetOf(wanted: RoleGrant[], held: RoleGrant[]): boolean {
  const covers = (h: RoleGrant, w: RoleGrant) => (h.namespace === undefined || h.namespace === w.namespace) && includesRole(h.role, w.role);
  return wanted.every((w) => held.some((h) => covers(h, w)));
}
