/**
 * Hooks, their deliveries and alert rules as the API answers them, and the pure pieces the Alerts page shows:
 * what one alert of a delivery caused, a rule's match and circuit-breaker state in words, and the Alertmanager
 * receiver a new hook's token goes into.
 */
import type { AlertRule } from '@baton/shared';

export type HookType = 'alertmanager' | 'generic';

/** `GET /api/v1/hooks`: never a token. */
export interface HookSummary {
  name: string;
  type: HookType;
  alertsPath: string | null;
  createdBy: string;
  createdAt: string;
  /** Where monitoring posts to, e.g. `/api/v1/hooks/alertmanager/prod`. */
  url: string;
}

/** `POST /api/v1/hooks`: the only answer that holds the token (Alertmanager) or HMAC key (generic). */
export interface CreatedHook extends HookSummary {
  token: string;
}

export type OutcomeResult = 'started' | 'duplicate' | 'suppressed' | 'no-rule' | 'resolved' | 'error';

/** What one alert of a delivery caused. */
export interface AlertOutcome {
  fingerprint: string;
  alertname?: string;
  status: 'firing' | 'resolved';
  rule?: string;
  result: OutcomeResult;
  executionId?: string;
  message?: string;
}

/** `GET /api/v1/hooks/{name}/deliveries`, newest first. */
export interface DeliveryView {
  id: string;
  receivedAt: string;
  source: string | null;
  status: 'pending' | 'processed' | 'failed';
  processedAt: string | null;
  error: string | null;
  outcomes: AlertOutcome[];
}

export interface BreakerState {
  startedInWindow: number;
  maxPerHour: number;
  isTripped: boolean;
  trippedAt: string | null;
  resetAt: string | null;
}

/** `GET /api/v1/alert-rules`. */
export interface AlertRuleView extends Omit<AlertRule, 'apiVersion' | 'kind'> {
  sourceFile: string | null;
  updatedAt: string;
  breaker: BreakerState;
}

/** Hook names as the API accepts them (CreateHookDto). */
export const HOOK_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

/** Why this hook name would be refused, or null when it is fine. */
export function hookNameProblem(name: string): string | null {
  if (name === '') return 'Give the hook a name.';
  if (name.length > 64) return 'At most 64 characters.';
  if (!HOOK_NAME_PATTERN.test(name))
    return 'Lower-case letters, digits, "-" or "_", starting with a letter or digit, e.g. alertmanager-prod.';
  return null;
}

/** One alert's outcome in words: `started`, `duplicate of an episode already remediated`, `error: …`. */
export function describeOutcome(outcome: AlertOutcome): string {
  switch (outcome.result) {
    case 'started':
      return outcome.rule ? `started a remediation (rule ${outcome.rule})` : 'started a remediation';
    case 'duplicate':
      return 'duplicate: this episode was already remediated';
    case 'suppressed':
      return `suppressed: the circuit breaker of ${outcome.rule ?? 'its rule'} is open`;
    case 'no-rule':
      return 'no rule matched';
    case 'resolved':
      return 'resolved: nothing to run';
    case 'error':
      return `error: ${outcome.message ?? 'no reason given'}`;
  }
}

/** The alert an outcome is about: its alertname and status, or its fingerprint when it has no name. */
export function outcomeSubject(outcome: AlertOutcome): string {
  return `${outcome.alertname ?? outcome.fingerprint} (${outcome.status})`;
}

/** A delivery's state in one phrase: waiting, failed with why, or how many alerts caused what. */
export function summarizeDelivery(delivery: DeliveryView): string {
  if (delivery.status === 'pending') return 'waiting to be processed';
  if (delivery.status === 'failed') return `failed: ${delivery.error ?? 'no reason given'}`;
  if (delivery.outcomes.length === 0) return 'no alerts';
  const counts = new Map<OutcomeResult, number>();
  for (const outcome of delivery.outcomes) counts.set(outcome.result, (counts.get(outcome.result) ?? 0) + 1);
  return [...counts].map(([result, n]) => `${n} ${result}`).join(', ');
}

/** A rule's match as written in its file: `alertname=ServiceDown, severity=/critical|page/`. */
export function formatMatch(match: Record<string, string>): string {
  return Object.entries(match)
    .map(([label, value]) => `${label}=${value}`)
    .join(', ');
}

/** The circuit breaker in words: open since when, or closed with its use in the current hour. */
export function describeBreaker(breaker: BreakerState): string {
  const used = `${breaker.startedInWindow} of ${breaker.maxPerHour} this hour`;
  return breaker.isTripped ? `open (${used})` : `closed (${used})`;
}

/** The full address monitoring posts to, from the hook's path and the portal's origin (`https://baton.example.com`). */
export function hookUrl(hook: Pick<HookSummary, 'url'>, origin: string): string {
  return `${origin.replace(/\/+$/, '')}${hook.url}`;
}

/**
 * The receiver to paste into alertmanager.yml for an Alertmanager hook (see docs/alerts.md). The token is written
 * into a file, not into the configuration, so it stays out of version control.
 */
export function alertmanagerReceiverSnippet(hook: Pick<HookSummary, 'name' | 'url'>, origin: string): string {
  return [
    'receivers:',
    `  - name: baton-${hook.name}`,
    '    webhook_configs:',
    `      - url: ${hookUrl(hook, origin)}`,
    '        send_resolved: true',
    '        http_config:',
    '          authorization:',
    '            credentials_file: /etc/alertmanager/baton-token   # holds the token above',
    '',
  ].join('\n');
}

/** How to post a signed delivery to a generic hook with curl (the key is the HMAC key shown once). */
export function genericCurlSnippet(hook: Pick<HookSummary, 'url'>, origin: string): string {
  return [
    `body='{"alerts":[{"labels":{"alertname":"ServiceDown","instance":"web-1:9100"}}]}'`,
    `sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$TOKEN" -hex | sed 's/^.* //')`,
    `curl -X POST ${hookUrl(hook, origin)} \\`,
    `  -H 'content-type: application/json' -H "x-baton-signature: sha256=$sig" -d "$body"`,
    '',
  ].join('\n');
}
