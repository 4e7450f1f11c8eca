/**
 * What an HTTP request becomes in the audit log: which requests are recorded (every change under /api and every
 * refused access), the actor, action, target and details. Pure functions shared by the interceptor and by the
 * middleware that catches requests refused before any interceptor runs.
 */
import type { Principal } from '../auth/permissions';
import type { AuditActor, AuditEventInput } from './audit-event';
import type { AuditActionMeta } from './audit-action.decorator';
import { redactByKey } from './redaction';

/** The parts of an Express request used here (kept narrow so unit tests can build one by hand). */
export interface AuditedRequest {
  method: string;
  path: string;
  ip?: string;
  route?: { path: string };
  params?: Record<string, string>;
  body?: unknown;
  user?: Principal;
  /** Set by a handler whose caller authenticated without being a user (a webhook), to name it in the record. */
  auditActor?: AuditActor;
  socket?: { remoteAddress?: string };
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const MAX_BODY_CHARS = 16 * 1024;

/** Changes (any non-read method) under /api are recorded whatever their outcome; reads only when refused (403). */
export function isAudited(request: Pick<AuditedRequest, 'method' | 'path'>, status: number): boolean {
  if (!/^\/api(\/|$)/.test(request.path)) return false;
  return !READ_METHODS.has(request.method.toUpperCase()) || status === 403;
}

export function actorOf(request: AuditedRequest): AuditActor {
  if (request.auditActor) return request.auditActor;
  const user = request.user;
  if (user?.username) return { type: user.tokenId ? 'token' : 'user', name: user.username };
  // A login attempt names who it tried to be: failed logins for "alice" are found under actor=alice.
  const attempted = (request.body as { username?: unknown } | undefined)?.username;
  return { type: 'anonymous', name: typeof attempted === 'string' && attempted ? attempted.slice(0, 200) : 'anonymous' };
}

/** `POST /api/v1/runbooks/:id/executions`, or the decorated name. */
export function actionOf(request: AuditedRequest, meta?: AuditActionMeta): string {
  return meta?.action ?? `${request.method.toUpperCase()} ${request.route?.path ?? request.path}`;
}

/** The last route parameter, named after the path segment before it: `/runbooks/:id/executions` -> `runbook:<id>`. */
export function targetOf(request: AuditedRequest, meta?: AuditActionMeta): string | undefined {
  const fromMeta = meta?.target?.({ params: request.params ?? {}, body: request.body });
  if (fromMeta) return fromMeta;
  const segments = (request.route?.path ?? '').split('/').filter(Boolean);
  for (let i = segments.length - 1; i > 0; i--) {
    const param = /^:(\w+)/.exec(segments[i])?.[1];
    const value = param ? request.params?.[param] : undefined;
    if (value === undefined) continue;
    const kind = segments[i - 1].startsWith(':') ? param! : segments[i - 1].replace(/s$/, '');
    return `${kind}:${value}`;
  }
  return undefined;
}

export function describeRequest(
  request: AuditedRequest,
  outcome: { status: number; error?: string },
  meta?: AuditActionMeta,
): AuditEventInput {
  const action = actionOf(request, meta);
  const isDenied = outcome.status === 403;
  const details: Record<string, unknown> = { status: outcome.status };
  if (isDenied) details.attempted = action;
  if (request.params && Object.keys(request.params).length) details.params = request.params;
  if (meta?.recordBody !== false && hasContent(request.body)) details.body = boundedBody(redactByKey(request.body));
  if (outcome.error) details.error = outcome.error;
  if (request.user?.tokenId) details.tokenId = request.user.tokenId;
  return {
    actor: actorOf(request),
    action: isDenied ? 'access.denied' : action,
    target: targetOf(request, meta),
    details,
    source: request.ip ?? request.socket?.remoteAddress,
  };
}

function hasContent(body: unknown): boolean {
  if (body === undefined || body === null) return false;
  return typeof body !== 'object' || Object.keys(body).length > 0;
}

function boundedBody(body: unknown): unknown {
  const chars = JSON.stringify(body).length;
  return chars > MAX_BODY_CHARS ? { omitted: `body of ${chars} characters` } : body;
}

/** The status an error will be answered with (HTTP exceptions carry theirs; anything else becomes a 5xx). */
export function statusOf(error: unknown): number {
  const status = (error as { getStatus?: () => number })?.getStatus?.();
  return typeof status === 'number' ? status : 500;
}

/** The message of a client error, for the record (5xx messages are internal and stay in the portal's log). */
export function errorMessageOf(error: unknown, status: number): string | undefined {
  if (status >= 500) return undefined;
  const response = (error as { getResponse?: () => unknown })?.getResponse?.();
  const message = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : undefined;
  if (Array.isArray(message)) return message.join('; ').slice(0, 500);
  if (typeof message === 'string') return message.slice(0, 500);
  return error instanceof Error ? error.message.slice(0, 500) : undefined;
}
