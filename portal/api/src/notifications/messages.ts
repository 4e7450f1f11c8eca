/**
 * How an event reads in each notifier type: plain text (e-mail), Slack's mrkdwn, a Teams Adaptive Card, and the
 * JSON body of a webhook. Pure functions of the stored event: every attempt renders the same message.
 */
import type { NotificationEvent, RunFacts } from './notification-event';

export interface Fact {
  label: string;
  value: string;
}

/** The facts of an event, in the order a reader wants them. */
export function factsOf(event: NotificationEvent): Fact[] {
  const facts: Fact[] = [];
  const add = (label: string, value: string | undefined) => value !== undefined && value !== '' && facts.push({ label, value });
  if (event.node) add('Node', event.node);
  if (event.run) facts.push(...runFacts(event.run));
  const rule = event.alertRule;
  if (rule) {
    add('Alert rule', rule.id);
    add('Remediations in the last hour', `${rule.startedInWindow} (maxPerHour ${rule.maxPerHour})`);
    add('Suppressed alert', `${rule.alertname ?? 'alert'} (fingerprint ${rule.fingerprint}) from hook ${rule.hook}`);
    add('Resumes', 'when the hour allows, or when an admin resets the rule');
  }
  const action = event.poolAction;
  if (action) {
    add('Pool', action.pool);
    add('Action', `${action.id}: ${action.from} -> ${action.to} nodes`);
    add('Requested by', action.requestedBy);
    add('Why it failed', action.message);
  }
  return facts;
}

function runFacts(run: RunFacts): Fact[] {
  const facts: Fact[] = [
    { label: 'Runbook', value: run.runbookTitle ? `${run.runbook} (${run.runbookTitle})` : run.runbook },
    { label: 'Status', value: run.reason ? `${run.status}: ${run.reason}` : run.status },
    { label: 'Triggered by', value: run.triggeredBy },
  ];
  if (run.nodes.length > 0) facts.push({ label: 'Nodes', value: run.nodes.map((n) => `${n.node} ${n.status}`).join(', ') });
  if (run.durationMs !== undefined) facts.push({ label: 'Duration', value: formatDurationMs(run.durationMs) });
  const step = run.failingStep;
  if (step) {
    const exit = step.exitCode !== null ? `, exit ${step.exitCode}` : '';
    facts.push({ label: 'Failing step', value: `${step.step} on ${step.node}${exit}${step.error ? `: ${step.error}` : ''}` });
  }
  facts.push({ label: 'Execution', value: run.id });
  return facts;
}

/** `850 ms`, `12 s`, `3 min 4 s`, `2 h 5 min`. */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The log lines shown, if any. */
function logTailOf(event: NotificationEvent): string[] {
  return event.run?.failingStep?.logTail ?? [];
}

/** The message as plain text: the e-mail body, and `text` in a webhook's JSON. */
export function plainText(event: NotificationEvent): string {
  const lines = [event.title, '', ...factsOf(event).map((f) => `${f.label}: ${f.value}`)];
  const tail = logTailOf(event);
  if (tail.length > 0) lines.push('', 'Last lines of its log:', ...tail.map((line) => `  ${line}`));
  if (event.link) lines.push('', `Open in Baton: ${event.link}`);
  return `${lines.join('\n')}\n`;
}

/** A Slack incoming-webhook body: mrkdwn text, the log in a code block, the link as a Slack link. */
export function slackBody(event: NotificationEvent): unknown {
  const lines = [`*${slackEscape(event.title)}*`, ...factsOf(event).map((f) => `*${slackEscape(f.label)}:* ${slackEscape(f.value)}`)];
  const tail = logTailOf(event);
  // A code block ends at the first ``` inside it: the log must not close it early.
  if (tail.length > 0) lines.push('```', ...tail.map((line) => slackEscape(line).replaceAll('```', "'''")), '```');
  if (event.link) lines.push(`<${event.link}|Open in Baton>`);
  return { text: lines.join('\n') };
}

/** Slack reads &, < and > as markup: they are escaped in every value shown. */
function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A Teams incoming-webhook (Workflows) body: one Adaptive Card with the facts, the log and a button to the UI. */
export function teamsBody(event: NotificationEvent): unknown {
  const isBad = event.type !== 'execution.succeeded' && event.type !== 'notifier.test';
  const body: unknown[] = [
    { type: 'TextBlock', text: event.title, weight: 'Bolder', size: 'Medium', wrap: true, color: isBad ? 'Attention' : 'Good' },
    { type: 'FactSet', facts: factsOf(event).map((f) => ({ title: f.label, value: f.value })) },
  ];
  const tail = logTailOf(event);
  if (tail.length > 0) {
    body.push({ type: 'TextBlock', text: 'Last lines of its log', weight: 'Bolder', wrap: true });
    body.push({ type: 'TextBlock', text: tail.join('\n'), fontType: 'Monospace', wrap: true });
  }
  const card = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    ...(event.link ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in Baton', url: event.link }] } : {}),
  };
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] };
}

/** A webhook's JSON body: the event's facts as data, and the same message as text. */
export function webhookBody(event: NotificationEvent): unknown {
  return { ...event, text: plainText(event) };
}

export function emailOf(event: NotificationEvent): { subject: string; text: string } {
  return { subject: `[Baton] ${event.title}`, text: plainText(event) };
}
