/**
 * From what a monitoring tool posted to the alerts Baton acts on: Alertmanager's webhook payload (version 4), or any
 * JSON whose alerts sit at a configured path (`$.alerts`, `data.items`, `results[0].alerts`). Pure functions.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Alert } from '@baton/shared';

const stringMap = z.record(z.string(), z.string());

/** The parts of Alertmanager's webhook payload Baton reads; other fields (receiver, externalURL, ...) may be present. */
export const alertmanagerPayloadSchema = z.object({
  version: z.string().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  groupKey: z.string().optional(),
  alerts: z.array(
    z.object({
      status: z.enum(['firing', 'resolved']),
      labels: stringMap,
      annotations: stringMap.optional(),
      startsAt: z.string().optional(),
      endsAt: z.string().optional(),
      fingerprint: z.string().optional(),
    }),
  ),
});

/** Why a payload cannot be an Alertmanager delivery, or null when it can. */
export function alertmanagerPayloadProblem(payload: unknown): string | null {
  const parsed = alertmanagerPayloadSchema.safeParse(payload);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return `not an Alertmanager webhook payload (version 4): ${issue.path.join('.') || 'body'}: ${issue.message}`;
}

export function alertmanagerAlerts(payload: unknown): Alert[] {
  const parsed = alertmanagerPayloadSchema.parse(payload);
  return parsed.alerts.map((a) => ({
    status: a.status,
    labels: a.labels,
    annotations: a.annotations ?? {},
    startsAt: a.startsAt ?? '',
    fingerprint: a.fingerprint || fingerprintOf(a.labels),
  }));
}

type PathStep = string | number;

/** `$.alerts`, `data.items`, `results[0].alerts` -> its steps; a syntax error throws with the reason. */
export function parseAlertsPath(path: string): PathStep[] {
  const text = path.trim().replace(/^\$\.?/, '');
  if (text === '') return [];
  const steps: PathStep[] = [];
  for (const part of text.split('.')) {
    const match = /^([A-Za-z_][A-Za-z0-9_-]*)?((?:\[\d+\])*)$/.exec(part);
    if (!match || (!match[1] && !match[2])) throw new Error(`"${path}" is not a path such as $.alerts or data.items[0].alerts`);
    if (match[1]) steps.push(match[1]);
    for (const [, index] of match[2].matchAll(/\[(\d+)\]/g)) steps.push(Number(index));
  }
  return steps;
}

/** The value at the path, or undefined. Own properties only: `__proto__` or `constructor` find nothing. */
export function valueAtPath(data: unknown, steps: PathStep[]): unknown {
  let current = data;
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, step)) return undefined;
      current = (current as Record<string, unknown>)[step];
    }
  }
  return current;
}

/** Why a generic payload holds no list of alerts at the hook's path, or null when it does. */
export function genericPayloadProblem(payload: unknown, alertsPath: string): string | null {
  const found = valueAtPath(payload, parseAlertsPath(alertsPath));
  return Array.isArray(found) ? null : `no list of alerts at ${alertsPath} in the body`;
}

/**
 * The alerts of a generic payload. Each item gives `labels` (or, without them, its own text fields serve as labels),
 * optionally `annotations`, `status` (firing unless it says resolved), `startsAt` and `fingerprint` (else computed from
 * the labels, so that the same alert sent again deduplicates).
 */
export function genericAlerts(payload: unknown, alertsPath: string): Alert[] {
  const items = valueAtPath(payload, parseAlertsPath(alertsPath));
  if (!Array.isArray(items)) throw new Error(`no list of alerts at ${alertsPath} in the body`);
  const topStatus = statusOf((payload as { status?: unknown } | null)?.status);
  return items.filter(isObject).map((item) => {
    const labels = textFields(isObject(item.labels) ? item.labels : item);
    return {
      status: statusOf(item.status) ?? topStatus ?? 'firing',
      labels,
      annotations: isObject(item.annotations) ? textFields(item.annotations) : {},
      startsAt: typeof item.startsAt === 'string' ? item.startsAt : '',
      fingerprint: typeof item.fingerprint === 'string' && item.fingerprint ? item.fingerprint : fingerprintOf(labels),
    };
  });
}

/** A stable id of a label set (sorted names and values), like Alertmanager's own fingerprint. */
export function fingerprintOf(labels: Record<string, string>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((name) => `${name}\u0000${labels[name]}`)
    .join('\u0001');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

function statusOf(value: unknown): 'firing' | 'resolved' | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.toLowerCase();
  if (['resolved', 'ok', 'recovered'].includes(text)) return 'resolved';
  if (['firing', 'alerting', 'problem', 'triggered'].includes(text)) return 'firing';
  return undefined;
}

function textFields(source: Record<string, unknown>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[name] = String(value);
  }
  return fields;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
