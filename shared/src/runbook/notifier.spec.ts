import { parseResources } from './parse';
import type { Job, Notifier, Resource, Runbook } from './schema';

const FILE = 'runbooks/ops/notifiers.yaml';
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;
const HEADER = ['apiVersion: baton/v1', 'kind: Notifier'];

function parsed(text: string): { resources: Resource[]; messages: string[] } {
  const { resources, errors } = parseResources(text, FILE);
  return { resources, messages: errors.map((e) => `${e.line}: ${e.message}`) };
}

describe('kind: Notifier', () => {
  it('loads the webhook notifier of the reference, with defaults for retries, timeout and on', () => {
    const { resources, messages } = parsed(
      yaml(
        ...HEADER,
        'id: ops-webhook',
        'type: webhook',
        'url: https://hooks.example/baton',
        'hmacSecret: webhook-key',
        'on: [execution.failed, execution.timed_out]',
        'match: { namespaces: [ops] }',
      ),
    );
    expect(messages).toEqual([]);
    expect(resources[0] as Notifier).toEqual({
      apiVersion: 'baton/v1',
      kind: 'Notifier',
      id: 'ops-webhook',
      type: 'webhook',
      url: 'https://hooks.example/baton',
      hmacSecret: 'webhook-key',
      on: ['execution.failed', 'execution.timed_out'],
      match: { namespaces: ['ops'] },
      retry: { attempts: 10, backoff: '5s' },
      timeout: '10s',
      enabled: true,
    });
  });

  it('loads an email notifier with STARTTLS on port 587 by default', () => {
    const { resources, messages } = parsed(
      yaml(
        ...HEADER,
        'id: ops-mail',
        'type: email',
        'to: [ops@example.org]',
        'from: baton@example.org',
        'smtp: { host: mail.example.org, user: baton, passwordSecret: smtp-password }',
        'on: [node.lost]',
      ),
    );
    expect(messages).toEqual([]);
    expect((resources[0] as Notifier).smtp).toEqual({
      host: 'mail.example.org',
      port: 587,
      security: 'starttls',
      user: 'baton',
      passwordSecret: 'smtp-password',
    });
  });

  it('refuses a slack URL in clear: the incoming-webhook URL is a credential', () => {
    const { messages } = parsed(yaml(...HEADER, 'id: ops-slack', 'type: slack', 'url: https://hooks.slack.com/services/T/B/X'));
    expect(messages).toEqual([
      expect.stringMatching(/^4: missing required field "urlSecret"/),
      expect.stringMatching(/^5: url: a slack incoming-webhook URL is a credential: store it as a secret/),
    ]);
  });

  it('names what an email notifier lacks and what it must not have', () => {
    const { messages } = parsed(yaml(...HEADER, 'id: ops-mail', 'type: email', 'url: https://example.org', 'to: [not-an-address]'));
    expect(messages).toEqual(expect.arrayContaining([expect.stringContaining('to[0]: must be an e-mail address')]));
    const second = parsed(yaml(...HEADER, 'id: ops-mail', 'type: email', 'url: https://example.org', 'to: [ops@example.org]'));
    expect(second.messages).toEqual([
      expect.stringContaining('missing required field "from"'),
      expect.stringContaining('missing required field "smtp"'),
      expect.stringContaining('url: only webhook, slack and teams notifiers have it'),
    ]);
  });

  it('needs exactly one of url and urlSecret on a webhook, and knows its events', () => {
    expect(parsed(yaml(...HEADER, 'id: hook', 'type: webhook')).messages).toEqual([
      expect.stringContaining('exactly one of "url" or "urlSecret"'),
    ]);
    expect(parsed(yaml(...HEADER, 'id: hook', 'type: webhook', 'url: https://x.example', 'on: [execution.exploded]')).messages).toEqual([
      expect.stringMatching(/^6: on\[0\]: must be one of execution.failed, .*pool.action.failed/),
    ]);
  });

  it('caps the timeout of one attempt at 60 seconds', () => {
    expect(parsed(yaml(...HEADER, 'id: hook', 'type: webhook', 'url: https://x.example', 'timeout: 5m')).messages).toEqual([
      expect.stringContaining('timeout: must be a duration of at most 60s'),
    ]);
  });
});

describe('notify: on runbooks and jobs', () => {
  it('lets a runbook and a job name notifiers, listening to failures by default', () => {
    const { resources, messages } = parsed(
      yaml(
        'apiVersion: baton/v1',
        'kind: Runbook',
        'id: ops.backup',
        'title: Backup',
        'steps: [{ id: dump, run: "true" }]',
        'notify:',
        '  - notifier: ops-slack',
        '  - { notifier: ops-mail, on: [succeeded, node.lost] }',
        '---',
        'apiVersion: baton/v1',
        'kind: Job',
        'id: ops.nightly-backup',
        'runbook: ops.backup',
        'schedule: { cron: "0 3 * * *" }',
        'notify: [{ notifier: ops-slack, on: [failed] }]',
      ),
    );
    expect(messages).toEqual([]);
    expect((resources[0] as Runbook).notify).toEqual([
      { notifier: 'ops-slack', on: ['failed', 'timed_out'] },
      { notifier: 'ops-mail', on: ['succeeded', 'node.lost'] },
    ]);
    expect((resources[1] as Job).notify).toEqual([{ notifier: 'ops-slack', on: ['failed'] }]);
  });

  it('refuses an event a run cannot have', () => {
    const { messages } = parsed(
      yaml(
        'apiVersion: baton/v1',
        'kind: Runbook',
        'id: ops.x',
        'title: X',
        'steps: [{ id: a, run: "true" }]',
        'notify: [{ notifier: n, on: [exploded] }]',
      ),
    );
    expect(messages).toEqual([expect.stringContaining('notify[0].on[0]: must be one of succeeded, failed, timed_out')]);
  });
});
