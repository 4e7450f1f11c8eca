/**
 * What an alert rule does with one alert, as pure functions: does it match the rule's labels, what are the
 * parameter values once `{{ labels.x }}` placeholders are filled in, and which node does the alert name.
 * The loader uses the checks to refuse a bad rule at load time; the portal uses the rest on every delivery.
 *
 * The template language is deliberately tiny: four kinds of placeholder, replaced in one pass, no expressions,
 * no filters, nothing evaluated. A rendered value is only ever a parameter value, checked by the runbook's specs.
 */
import type { ParamValue } from '../runbook/params';

/** One alert as Baton sees it, whichever tool sent it. */
export interface Alert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** As sent (RFC 3339 text); with the fingerprint it names one firing episode. Empty when the sender gave none. */
  startsAt: string;
  fingerprint: string;
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const FIELD = /^(?:(labels|annotations)\.([A-Za-z_][A-Za-z0-9_]*)|(status|fingerprint))$/;

export type Matcher = { kind: 'equals'; value: string } | { kind: 'regex'; pattern: RegExp };

/** `/regex/` is a regular expression matched against the whole value; anything else must be equal. */
export function parseMatcher(text: string): Matcher | { error: string } {
  if (!(text.length >= 2 && text.startsWith('/') && text.endsWith('/'))) return { kind: 'equals', value: text };
  const source = text.slice(1, -1);
  try {
    // Anchored: `/web-.*/` must not match `old-web-1` just because it contains the pattern.
    return { kind: 'regex', pattern: new RegExp(`^(?:${source})$`) };
  } catch (error) {
    return { error: `not a valid regular expression: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Whether every label of `match` is on the alert with a matching value. A label the alert lacks never matches. */
export function matchesLabels(match: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(match).every(([name, expected]) => {
    if (!Object.hasOwn(labels, name)) return false;
    const matcher = parseMatcher(expected);
    if ('error' in matcher) return false;
    return matcher.kind === 'equals' ? labels[name] === matcher.value : matcher.pattern.test(labels[name]);
  });
}

/** Problems with a template's placeholders (unknown fields, expressions), for the loader and the API. */
export function templateProblems(template: string): string[] {
  const problems: string[] = [];
  for (const [whole, inner] of template.matchAll(PLACEHOLDER)) {
    if (!FIELD.test(inner)) {
      problems.push(
        `${whole} is not a placeholder Baton knows; use {{ labels.<name> }}, {{ annotations.<name> }}, {{ status }} or {{ fingerprint }}`,
      );
    }
  }
  return problems;
}

export type Rendered<T> = { ok: true; value: T } | { ok: false; message: string };

/** The template with its placeholders replaced by the alert's data, in one pass (a value is never re-read as a template). */
export function renderTemplate(template: string, alert: Alert): Rendered<string> {
  let problem: string | undefined;
  const value = template.replace(PLACEHOLDER, (whole, inner: string) => {
    const field = FIELD.exec(inner);
    if (!field) {
      problem ??= `${whole} is not a placeholder Baton knows`;
      return '';
    }
    const [, section, name, plain] = field;
    if (plain) return plain === 'status' ? alert.status : alert.fingerprint;
    const source = section === 'labels' ? alert.labels : alert.annotations;
    if (!Object.hasOwn(source, name)) {
      problem ??= `${whole}: the alert has no ${section === 'labels' ? 'label' : 'annotation'} "${name}"`;
      return '';
    }
    return source[name];
  });
  return problem ? { ok: false, message: problem } : { ok: true, value };
}

/** Every string parameter rendered; numbers and booleans pass unchanged. The first failure names the parameter. */
export function renderParams(params: Record<string, ParamValue> | undefined, alert: Alert): Rendered<Record<string, ParamValue>> {
  const rendered: Record<string, ParamValue> = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    if (typeof value !== 'string') {
      rendered[name] = value;
      continue;
    }
    const result = renderTemplate(value, alert);
    if (!result.ok) return { ok: false, message: `params.${name}: ${result.message}` };
    rendered[name] = result.value;
  }
  return { ok: true, value: rendered };
}

/**
 * The node an alert names through one of its labels: `web-1:9100` -> `web-1`, `[::1]:9100` -> `::1`, `web-1` -> `web-1`.
 * Undefined when the alert lacks the label or its value is empty.
 */
export function nodeFromLabel(labels: Record<string, string>, label: string): string | undefined {
  if (!Object.hasOwn(labels, label)) return undefined;
  const value = labels[label].trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) return bracketed[1];
  // One colon is host:port; more than one is a bare IPv6 address, kept whole.
  const colons = value.split(':').length - 1;
  const host = colons === 1 ? value.slice(0, value.indexOf(':')) : value;
  return host === '' ? undefined : host;
}
