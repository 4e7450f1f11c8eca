/** The audit page's filters as the API's query string (`actor`, `action`, `target`, `from`, `to`). */

export interface AuditFilters {
  actor: string;
  action: string;
  target: string;
  /** `datetime-local` input values (local time, no zone); sent as ISO 8601 UTC. */
  from: string;
  to: string;
}

export const NO_AUDIT_FILTERS: AuditFilters = { actor: '', action: '', target: '', from: '', to: '' };

export function auditQuery(filters: AuditFilters, extra: Record<string, string> = {}): URLSearchParams {
  const query = new URLSearchParams();
  for (const key of ['actor', 'action', 'target'] as const) {
    const value = filters[key].trim();
    if (value !== '') query.set(key, value);
  }
  for (const key of ['from', 'to'] as const) {
    if (filters[key] === '') continue;
    const time = new Date(filters[key]);
    if (!Number.isNaN(time.getTime())) query.set(key, time.toISOString());
  }
  for (const [key, value] of Object.entries(extra)) query.set(key, value);
  return query;
}
