/**
 * What a notification says, as stored with its event: the same facts whatever the notifier type, secrets already
 * masked. Built once when the event happens; every attempt (on any replica, after any restart) renders these facts.
 */
import type { NotifierEvent, TRIGGER_TYPES } from '@baton/shared';

/** Every event type a notifier can be sent, plus the one `POST /api/v1/notifiers/{id}/test` sends. */
export type NotificationType = NotifierEvent | 'notifier.test';

export type TriggerType = (typeof TRIGGER_TYPES)[number];

/** What an event is about, as a notifier's `match` sees it. */
export interface NotificationScope {
  namespace?: string;
  runbook?: string;
  job?: string;
  trigger?: TriggerType;
}

/** The step whose failure ended the run on a node, with the last lines of its log. */
export interface FailingStep {
  node: string;
  step: string;
  exitCode: number | null;
  error?: string;
  logTail: string[];
}

/** One execution in a message. */
export interface RunFacts {
  id: string;
  runbook: string;
  runbookTitle?: string;
  status: string;
  reason?: string;
  /** Who or what started it, in words: `user alice`, `schedule ops.nightly`, `alert rule ops.disk via hook am`. */
  triggeredBy: string;
  nodes: { node: string; status: string; reason?: string }[];
  durationMs?: number;
  failingStep?: FailingStep;
}

export interface AlertRuleFacts {
  id: string;
  maxPerHour: number;
  startedInWindow: number;
  hook: string;
  alertname?: string;
  fingerprint: string;
}

export interface PoolActionFacts {
  pool: string;
  id: string;
  from: number;
  to: number;
  requestedBy: string;
  message: string;
  executionId?: string;
}

export interface NotificationEvent {
  /** Stable for the event: the idempotency key (`Idempotency-Key`, `X-Baton-Event-Id`, the e-mail's Message-ID). */
  id: string;
  type: NotificationType;
  occurredAt: string;
  scope: NotificationScope;
  /** One line: `ops.backup failed`. */
  title: string;
  run?: RunFacts;
  /** The node of a `node.lost`. */
  node?: string;
  alertRule?: AlertRuleFacts;
  poolAction?: PoolActionFacts;
  /** Where to look in the UI (BATON_PUBLIC_URL); absent when the portal does not know its public address. */
  link?: string;
}

/** The execution statuses that are notifier events (`execution.<status>`). */
export const NOTIFIED_OUTCOMES = ['succeeded', 'failed', 'timed_out'] as const;

/** `value` with `mask` applied to every string in it, however deep. */
export function maskStrings<T>(value: T, mask: (text: string) => string): T {
  if (typeof value === 'string') return mask(value) as T;
  if (Array.isArray(value)) return value.map((item) => maskStrings(item, mask)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskStrings(item, mask)])) as T;
  }
  return value;
}
