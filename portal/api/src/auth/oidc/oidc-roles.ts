/**
 * From an identity provider's claims to Baton grants: which claim holds the user's groups or roles, how each value
 * maps to grants (`admin`, `operator:web`), and which claim names the user. Pure functions, no I/O.
 */
import { ROLES, type Role, type RoleGrant } from '../permissions';

/** Claim value -> the grants it gives, e.g. `{ sre: [{ role: 'admin' }] }`. */
export type RoleMap = Record<string, RoleGrant[]>;

export type Claims = Record<string, unknown>;

const NAMESPACE = /^[a-z0-9][a-z0-9_-]*$/;

/** `admin` -> global admin; `operator:web` -> operator in namespace `web`; anything else -> undefined. */
export function parseGrant(text: string): RoleGrant | undefined {
  const [role, namespace, ...rest] = text.trim().split(':');
  if (rest.length > 0 || !ROLES.includes(role as Role)) return undefined;
  if (namespace === undefined) return { role: role as Role };
  return NAMESPACE.test(namespace) ? { role: role as Role, namespace } : undefined;
}

/**
 * The value of a claim: the exact name first (claim names may contain dots, e.g. `https://example.com/roles`),
 * then a dotted path into nested objects (Keycloak puts realm roles under `realm_access.roles`).
 */
export function claimValue(claims: Claims, name: string): unknown {
  if (name in claims) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null || !(part in value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The values of the roles claim: a string is one value, an array keeps its strings; anything else gives none. */
function claimStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * The grants a user's claims give. With a role map, each claim value is looked up in it; without one, each value is
 * read as a grant itself (`admin`, `operator:web`). Values that map to nothing are ignored; duplicates are dropped.
 */
export function grantsFromClaims(claims: Claims, rolesClaim: string, roleMap?: RoleMap): RoleGrant[] {
  const grants = new Map<string, RoleGrant>();
  for (const value of claimStrings(claimValue(claims, rolesClaim))) {
    const mapped = roleMap ? (Object.hasOwn(roleMap, value) ? roleMap[value] : []) : [parseGrant(value)];
    for (const grant of mapped) {
      if (grant) grants.set(`${grant.role}:${grant.namespace ?? ''}`, grant);
    }
  }
  return [...grants.values()];
}

/** The portal username: the configured claim when it is a non-empty string, else the subject (`sub`). */
export function usernameFromClaims(claims: Claims, usernameClaim: string): string | undefined {
  const preferred = claimValue(claims, usernameClaim);
  if (typeof preferred === 'string' && preferred.trim() !== '') return preferred.trim();
  return typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : undefined;
}
