/** Who may decide an approval: pure rules, unit-tested. */
import type { StoredApproval } from '../executions/execution.entity';
import { ROLES, includesRole, isAdmin, rolesIn, type Principal, type Role, type RoleGrant } from '../auth/permissions';

/**
 * The caller's grants as they are now: a grant the token or session carries only counts while the user still holds
 * it (a role removed after the request is refused, even before the access token expires).
 */
export function currentGrants(principal: Principal, held: RoleGrant[]): RoleGrant[] {
  return principal.roles.filter((g) => held.some((h) => h.role === g.role && h.namespace === g.namespace));
}

/** Why the caller may not decide, or undefined when they may. */
export function whyNotApprover(
  principal: Principal,
  approval: StoredApproval,
  namespace: string,
  decision: 'approved' | 'rejected',
): string | undefined {
  if (decision === 'approved' && !approval.selfApproval && principal.username === approval.requestedBy) {
    return 'four eyes: the requester may not approve their own run';
  }
  if (isAdmin(principal)) return undefined;
  if (approval.approvers.users?.includes(principal.username)) return undefined;
  const wanted = (approval.approvers.roles ?? []).filter((r): r is Role => (ROLES as readonly string[]).includes(r));
  const held = rolesIn(principal, namespace);
  if (held.some((role) => wanted.some((w) => includesRole(role, w)))) return undefined;
  const who = [...(approval.approvers.roles ?? []).map((r) => `role ${r}`), ...(approval.approvers.users ?? []).map((u) => `user ${u}`)];
  return `only ${who.length ? who.join(', ') : 'admins'} may decide this run`;
}
