/**
 * Who hears about an event: notifiers whose `on` lists it and whose `match` fits its scope, plus the notifiers a
 * runbook or job names in `notify:` for that kind of outcome. Pure functions over plain data.
 */
import type { Notifier, NotifyList } from '@baton/shared';
import type { NotificationScope, NotificationType } from './notification-event';

/** Whether a notifier wants this event on its own account (`on` and `match`). */
export function isWantedBy(notifier: Notifier, type: NotificationType, scope: NotificationScope): boolean {
  if (!notifier.enabled || type === 'notifier.test') return false;
  if (!notifier.on.includes(type)) return false;
  const match = notifier.match;
  if (!match) return true;
  return (
    isListed(match.namespaces, scope.namespace) &&
    isListed(match.runbooks, scope.runbook) &&
    isListed(match.jobs, scope.job) &&
    isListed(match.triggers, scope.trigger)
  );
}

/** An absent list lets everything through; a given list needs the value, and an event without one does not fit. */
function isListed<T extends string>(list: readonly T[] | undefined, value: T | undefined): boolean {
  return list === undefined || (value !== undefined && list.includes(value));
}

/** The name a `notify:` entry uses for an event of a run: `execution.failed` -> `failed`; others as they are. */
export function runNotifyName(type: NotificationType): string | undefined {
  if (type.startsWith('execution.')) return type.slice('execution.'.length);
  if (type === 'node.lost' || type === 'input.requested') return type;
  return undefined;
}

/** The notifiers named by `notify:` lists (a runbook's, a job's) for this event. */
export function namedFor(lists: (NotifyList | undefined)[], type: NotificationType): string[] {
  const name = runNotifyName(type);
  if (!name) return [];
  return lists.flatMap((list) => (list ?? []).filter((entry) => (entry.on as readonly string[]).includes(name)).map((e) => e.notifier));
}

/**
 * Every notifier that gets this event, once each, in id order. A named notifier that does not exist or is disabled
 * is left out and reported in `unknown`, so the caller can say so without failing the event.
 */
export function recipientsOf(
  notifiers: Notifier[],
  type: NotificationType,
  scope: NotificationScope,
  named: string[] = [],
): { recipients: string[]; unknown: string[] } {
  const byId = new Map(notifiers.map((n) => [n.id, n]));
  const recipients = new Set(notifiers.filter((n) => isWantedBy(n, type, scope)).map((n) => n.id));
  const unknown: string[] = [];
  for (const id of named) {
    if (byId.get(id)?.enabled) recipients.add(id);
    else if (!unknown.includes(id)) unknown.push(id);
  }
  return { recipients: [...recipients].sort(), unknown };
}
