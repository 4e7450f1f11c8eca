/**
 * Notifiers and their deliveries as the API answers them, and the pure pieces the Notifiers page shows: where a
 * notifier sends and what it listens to in words, a delivery's state, and the body the create form posts.
 */
import type { Notifier, NotifierEvent, NotifierType } from '@baton/shared';

/** `GET /api/v1/notifiers`. */
export interface NotifierView extends Omit<Notifier, 'apiVersion' | 'kind'> {
  sourceFile: string | null;
  updatedAt: string;
  deliveries: { pending: number; dead: number };
}

/** `GET /api/v1/notifiers/{id}/deliveries`, newest first. */
export interface DeliveryView {
  id: string;
  event: { id: string; type: string; title: string; occurredAt: string };
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/**
 * The events a notifier may listen to, in the order the form offers them. The browser bundle does not load the
 * shared schemas, so the list is here; the type below fails to compile if it ever misses one of NotifierEvent.
 */
export const NOTIFIER_EVENTS = [
  'execution.failed',
  'execution.timed_out',
  'execution.succeeded',
  'execution.waiting',
  'input.requested',
  'node.lost',
  'alert.rule.tripped',
  'pool.action.failed',
] as const satisfies readonly NotifierEvent[];
type Unlisted = Exclude<NotifierEvent, (typeof NOTIFIER_EVENTS)[number]>;
export const EVERY_EVENT_IS_LISTED: [Unlisted] extends [never] ? true : never = true;

export const NOTIFIER_TYPES = ['webhook', 'slack', 'teams', 'email'] as const satisfies readonly NotifierType[];

/** Where a notifier sends, without any secret: the URL of a webhook, the secret's name, or the mailboxes. */
export function describeTarget(notifier: Pick<Notifier, 'type' | 'url' | 'urlSecret' | 'to' | 'smtp'>): string {
  if (notifier.type === 'email') return `${(notifier.to ?? []).join(', ')} via ${notifier.smtp?.host ?? '?'}:${notifier.smtp?.port ?? 587}`;
  if (notifier.url) return notifier.url;
  return `URL in secret ${notifier.urlSecret ?? '?'}`;
}

/** What a notifier hears about on its own account, and where. */
export function describeListening(notifier: Pick<Notifier, 'on' | 'match'>): string {
  if (notifier.on.length === 0) return 'only runbooks and jobs that name it';
  const match = notifier.match;
  const limits = [
    match?.namespaces && `namespaces ${match.namespaces.join(', ')}`,
    match?.runbooks && `runbooks ${match.runbooks.join(', ')}`,
    match?.jobs && `jobs ${match.jobs.join(', ')}`,
    match?.triggers && `started by ${match.triggers.join(', ')}`,
  ].filter((limit): limit is string => Boolean(limit));
  return `${notifier.on.join(', ')}${limits.length ? ` in ${limits.join('; ')}` : ''}`;
}

/** A delivery's state in words: how many attempts, the next one, the last error. */
export function describeDelivery(delivery: DeliveryView, formatTime: (at: string | null) => string): string {
  const attempts = `${delivery.attempts} attempt${delivery.attempts === 1 ? '' : 's'}`;
  if (delivery.status === 'delivered') return `delivered after ${attempts}`;
  const error = delivery.lastError ? `: ${delivery.lastError}` : '';
  if (delivery.status === 'dead') return `gave up after ${attempts}${error}`;
  if (delivery.attempts === 0) return 'waiting for its first attempt';
  return `${attempts} so far${error}; next ${formatTime(delivery.nextAttemptAt)}`;
}

/** Delivery states coloured like execution statuses. */
export function deliveryStatusClass(status: DeliveryView['status']): string {
  if (status === 'delivered') return 'succeeded';
  if (status === 'dead') return 'failed';
  return 'pending';
}

/** The create form's fields, as typed. */
export interface NotifierForm {
  id: string;
  type: NotifierType;
  url: string;
  urlSecret: string;
  hmacSecret: string;
  to: string;
  from: string;
  smtpHost: string;
  smtpPort: string;
  smtpSecurity: string;
  smtpUser: string;
  smtpPasswordSecret: string;
  on: string[];
  namespaces: string;
  runbooks: string;
}

/**
 * The body of `POST /api/v1/notifiers` from the form, or the problems to fix first. Only what the form can know is
 * checked here (required fields per type); the API checks the rest and names the field.
 */
export function notifierBody(form: NotifierForm): { body: Record<string, unknown> } | { problems: string[] } {
  const problems: string[] = [];
  const text = (value: string) => value.trim();
  const list = (value: string) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  const body: Record<string, unknown> = { id: text(form.id), type: form.type, on: form.on };
  if (!text(form.id)) problems.push('Name: required, e.g. ops-slack');
  if (form.type === 'email') {
    if (list(form.to).length === 0) problems.push('To: at least one address');
    if (!text(form.from)) problems.push('From: the sender address');
    if (!text(form.smtpHost)) problems.push('SMTP host: required');
    body['to'] = list(form.to);
    body['from'] = text(form.from);
    const port = Number(text(form.smtpPort) || '587');
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push('SMTP port: a number from 1 to 65535');
    body['smtp'] = {
      host: text(form.smtpHost),
      port,
      security: form.smtpSecurity === 'tls' ? 'tls' : 'starttls',
      ...(text(form.smtpUser) ? { user: text(form.smtpUser) } : {}),
      ...(text(form.smtpPasswordSecret) ? { passwordSecret: text(form.smtpPasswordSecret) } : {}),
    };
  } else if (form.type === 'webhook') {
    if (Boolean(text(form.url)) === Boolean(text(form.urlSecret))) problems.push('URL: give either the URL or the secret holding it');
    if (text(form.url)) body['url'] = text(form.url);
    if (text(form.urlSecret)) body['urlSecret'] = text(form.urlSecret);
    if (text(form.hmacSecret)) body['hmacSecret'] = text(form.hmacSecret);
  } else {
    if (!text(form.urlSecret)) problems.push(`URL secret: the stored secret holding the ${form.type} incoming-webhook URL`);
    body['urlSecret'] = text(form.urlSecret);
  }
  const match = { namespaces: list(form.namespaces), runbooks: list(form.runbooks) };
  const given = Object.fromEntries(Object.entries(match).filter(([, values]) => values.length > 0));
  if (Object.keys(given).length > 0) body['match'] = given;
  return problems.length > 0 ? { problems } : { body };
}
