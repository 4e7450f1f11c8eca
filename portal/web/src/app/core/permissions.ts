/**
 * What the signed-in person may do, to hide or disable what they may not. A mirror of the few rules of
 * portal/api/src/auth/permissions.ts the UI needs (that module imports Nest, which does not belong in a browser);
 * the server still decides every request.
 */

export const ROLES = ['viewer', 'operator', 'editor', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface RoleGrant {
  role: Role;
  namespace?: string;
}

/** `GET /api/v1/auth/me`. */
export interface Principal {
  username: string;
  roles: RoleGrant[];
  tokenId?: string;
}

export interface RunbookAccess {
  id: string;
  access?: { run?: string[]; view?: string[] };
}

const RUNNERS: ReadonlySet<Role> = new Set(['operator', 'editor', 'admin']);
/** The roles each role includes (holds every permission of), as on the server: `run: [operator]` admits editors. */
const INCLUDES: Record<Role, readonly Role[]> = {
  viewer: ['viewer'],
  operator: ['viewer', 'operator'],
  editor: ['viewer', 'operator', 'editor'],
  auditor: ['viewer', 'auditor'],
  admin: ROLES,
};

function isAllowedBy(role: Role, allowed: string[] | undefined): boolean {
  return !allowed || allowed.some((entry) => (INCLUDES[role] as readonly string[]).includes(entry));
}

export function namespaceOf(resourceId: string): string {
  return resourceId.split('.')[0];
}

/** Global grants plus grants for the namespace. */
export function rolesIn(principal: Principal, namespace?: string): Role[] {
  return principal.roles.filter((g) => g.namespace === undefined || g.namespace === namespace).map((g) => g.role);
}

export function isAdmin(principal: Principal): boolean {
  return rolesIn(principal).includes('admin');
}

/** Reading the audit log needs a global auditor or admin grant. */
export function canReadAudit(principal: Principal): boolean {
  return rolesIn(principal).some((role) => role === 'auditor' || role === 'admin');
}

/**
 * Creating, changing (enabling, disabling) and deleting jobs needs runbooks:write, which editors and admins hold; the
 * page offers it only for a global grant (a namespace grant is still honoured by the API for that namespace's jobs).
 */
export function canEditJobs(principal: Principal): boolean {
  return rolesIn(principal).some((role) => INCLUDES[role].includes('editor'));
}

/** Every role holds pools:read (namespaced on the server: a grant for `web` reads `web.*` pools). */
const POOL_READERS: ReadonlySet<Role> = new Set(ROLES);

/**
 * Whether the person may read pools: in the pool's namespace when an id is given, else anywhere (the API's coarse
 * check before it knows the pool, which is what decides whether the Pools page is offered).
 */
export function canReadPools(principal: Principal, poolId?: string): boolean {
  const roles = poolId === undefined ? principal.roles.map((g) => g.role) : rolesIn(principal, namespaceOf(poolId));
  return roles.some((role) => POOL_READERS.has(role));
}

/** Why this person may not ask the pool to grow or shrink (pools:scale, namespaced), or null when they may. */
export function whyCannotScale(principal: Principal, poolId: string): string | null {
  if (rolesIn(principal, namespaceOf(poolId)).some((role) => RUNNERS.has(role))) return null;
  return 'Your roles do not allow scaling this pool; an operator, editor or admin may.';
}

/**
 * Approving or rejecting a change beyond a pool's operatorLimit, and forcing one during its cooldown, need
 * pools:approve, which only a global admin grant gives; an admin's own requests need no approval.
 */
export function canApprovePools(principal: Principal): boolean {
  return isAdmin(principal);
}

/** Why this person may not run the runbook, or null when they may (same rule as the API's canRunRunbook). */
export function whyCannotRun(principal: Principal, runbook: RunbookAccess): string | null {
  const roles = rolesIn(principal, namespaceOf(runbook.id));
  if (roles.includes('admin')) return null;
  const allowed = runbook.access?.run;
  if (roles.some((role) => RUNNERS.has(role) && isAllowedBy(role, allowed))) return null;
  if (allowed && allowed.length === 0) return 'Only admins may run this runbook.';
  if (allowed) return `Only these roles may run this runbook: ${allowed.join(', ')} (and admins).`;
  return 'Your roles do not allow running runbooks here; an operator, editor or admin may.';
}

/** Operators and editors cancel their own runs; admins anyone's (same rule as the API's cancel route). */
export function canCancel(principal: Principal, execution: { runbook: string; actor: string }): boolean {
  const roles = rolesIn(principal, namespaceOf(execution.runbook));
  if (roles.includes('admin')) return true;
  return execution.actor === principal.username && roles.some((role) => RUNNERS.has(role));
}

/** Role grants as typed in a form: `admin, operator:web` -> [{role: admin}, {role: operator, namespace: web}]. */
export function parseRoleGrants(text: string): { grants: RoleGrant[] } | { error: string } {
  const grants: RoleGrant[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const [role, namespace, ...rest] = part.split(':').map((p) => p.trim());
    if (rest.length > 0 || namespace === '') return { error: `"${part}": write a role, or role:namespace` };
    if (!(ROLES as readonly string[]).includes(role)) return { error: `"${role}" is not a role; roles are ${ROLES.join(', ')}` };
    grants.push(namespace === undefined ? { role: role as Role } : { role: role as Role, namespace });
  }
  return { grants };
}

/** The inverse of parseRoleGrants, for showing and editing. */
export function formatRoleGrants(grants: RoleGrant[]): string {
  return grants.map((g) => (g.namespace ? `${g.role}:${g.namespace}` : g.role)).join(', ');
}
