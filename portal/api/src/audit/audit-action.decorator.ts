/** Names the audit event of a route (`@AuditAction('user.create')`); routes without it are named `<METHOD> <route>`. */
import { SetMetadata } from '@nestjs/common';

export const AUDIT_ACTION = 'baton:auditAction';

export interface AuditActionOptions {
  /** Store the request body (keys such as `password` masked); default true. Turn off for large uploads. */
  recordBody?: boolean;
  /** The target when the route params do not name it, e.g. `(r) => \`user:${r.body.username}\`` on a create. */
  target?: (request: { params: Record<string, string>; body: unknown }) => string | undefined;
}

export interface AuditActionMeta extends AuditActionOptions {
  action: string;
}

export const AuditAction = (action: string, options: AuditActionOptions = {}) =>
  SetMetadata(AUDIT_ACTION, { action, ...options } satisfies AuditActionMeta);
