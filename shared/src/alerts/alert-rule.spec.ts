import { parseResources } from '../runbook/parse';
import { DEFAULT_MAX_PER_HOUR } from '../runbook/schema';
import { matchesLabels, nodeFromLabel, parseMatcher, renderParams, renderTemplate, templateProblems, type Alert } from './alert-rule';

const alert = (overrides: Partial<Alert> = {}): Alert => ({
  status: 'firing',
  labels: { alertname: 'ServiceDown', service: 'nginx', instance: 'web-1:9100' },
  annotations: { summary: 'nginx is down on web-1' },
  startsAt: '2025-11-24T10:00:00Z',
  fingerprint: 'abc123',
  ...overrides,
});

describe('matching alert labels', () => {
  it('matches equal values and refuses different or missing ones', () => {
    const labels = alert().labels;
    expect(matchesLabels({ alertname: 'ServiceDown' }, labels)).toBe(true);
    expect(matchesLabels({ alertname: 'ServiceDown', service: 'nginx' }, labels)).toBe(true);
    expect(matchesLabels({ alertname: 'ServiceDown', service: 'redis' }, labels)).toBe(false);
    expect(matchesLabels({ team: 'web' }, labels)).toBe(false);
  });

  it('matches /regex/ against the whole value', () => {
    const labels = alert().labels;
    expect(matchesLabels({ service: '/nginx|apache/' }, labels)).toBe(true);
    expect(matchesLabels({ instance: '/web-\\d+:.*/' }, labels)).toBe(true);
    // Anchored: a part of the value is not enough.
    expect(matchesLabels({ service: '/ngin/' }, labels)).toBe(false);
  });

  it('treats a value that merely contains slashes as text, and refuses a broken regex', () => {
    expect(parseMatcher('/')).toEqual({ kind: 'equals', value: '/' });
    expect(parseMatcher('/var/log')).toEqual({ kind: 'equals', value: '/var/log' });
    expect(parseMatcher('/(unclosed/')).toMatchObject({ error: expect.stringContaining('regular expression') });
    expect(matchesLabels({ service: '/(unclosed/' }, alert().labels)).toBe(false);
  });
});

describe('templating parameters from alerts', () => {
  it('fills in labels, annotations, status and fingerprint', () => {
    expect(
      renderTemplate('{{ labels.service }} on {{labels.instance}}: {{ annotations.summary }} ({{ status }}, {{ fingerprint }})', alert()),
    ).toEqual({
      ok: true,
      value: 'nginx on web-1:9100: nginx is down on web-1 (firing, abc123)',
    });
  });

  it('never evaluates anything and never re-reads a value as a template', () => {
    const sneaky = alert({ labels: { service: '{{ fingerprint }}', cmd: '$(rm -rf /)' } });
    expect(renderTemplate('{{ labels.service }}', sneaky)).toEqual({ ok: true, value: '{{ fingerprint }}' });
    expect(renderTemplate('{{ labels.cmd }}', sneaky)).toEqual({ ok: true, value: '$(rm -rf /)' });
    expect(renderTemplate('{{ labels.service | upper }}', sneaky)).toMatchObject({ ok: false });
    expect(renderTemplate('{{ process.env.HOME }}', sneaky)).toMatchObject({ ok: false });
  });

  it('refuses a label the alert does not carry, naming it', () => {
    expect(renderTemplate('{{ labels.team }}', alert())).toEqual({
      ok: false,
      message: '{{ labels.team }}: the alert has no label "team"',
    });
    expect(renderParams({ service: '{{ labels.team }}', retries: 3 }, alert())).toEqual({
      ok: false,
      message: 'params.service: {{ labels.team }}: the alert has no label "team"',
    });
  });

  it('renders strings and keeps numbers and booleans', () => {
    expect(renderParams({ service: '{{ labels.service }}', dry_run: false, retries: 3 }, alert())).toEqual({
      ok: true,
      value: { service: 'nginx', dry_run: false, retries: 3 },
    });
  });

  it('lists unknown placeholders for the loader', () => {
    expect(templateProblems('{{ labels.x }} {{ status }}')).toEqual([]);
    expect(templateProblems('{{ constructor.constructor }}')).toHaveLength(1);
    expect(templateProblems('{{ labels }}')).toHaveLength(1);
  });
});

describe('the node an alert names', () => {
  it('cuts host:port to the host', () => {
    expect(nodeFromLabel({ instance: 'web-1:9100' }, 'instance')).toBe('web-1');
    expect(nodeFromLabel({ instance: 'web-1' }, 'instance')).toBe('web-1');
    expect(nodeFromLabel({ instance: '[::1]:9100' }, 'instance')).toBe('::1');
    expect(nodeFromLabel({ instance: 'fe80::1' }, 'instance')).toBe('fe80::1');
    expect(nodeFromLabel({ host: 'db-2' }, 'instance')).toBeUndefined();
    expect(nodeFromLabel({ instance: ':9100' }, 'instance')).toBeUndefined();
  });
});

describe('loading AlertRule resources', () => {
  const rule = (extra: string[]) =>
    [
      'apiVersion: baton/v1',
      'kind: AlertRule',
      'id: ops.service-down',
      'match: { alertname: ServiceDown }',
      'runbook: ops.service-restart',
      'cooldown: 30m',
      'maxPerHour: 3',
      ...extra,
    ].join('\n');

  it('loads a rule with templated params and targets from a label', () => {
    const { resources, errors } = parseResources(
      rule(['params: { service: "{{ labels.service }}", dry_run: false }', 'targets: { fromLabel: instance }']),
      'rules.yaml',
    );
    expect(errors).toEqual([]);
    expect(resources[0]).toMatchObject({ kind: 'AlertRule', targets: { fromLabel: 'instance' }, params: { dry_run: false } });
  });

  it('caps a rule that leaves out maxPerHour at the documented default', () => {
    const { resources, errors } = parseResources(rule([]).replace('maxPerHour: 3', ''), 'rules.yaml');
    expect(errors).toEqual([]);
    expect(resources[0]).toMatchObject({ kind: 'AlertRule', maxPerHour: DEFAULT_MAX_PER_HOUR });
    expect(DEFAULT_MAX_PER_HOUR).toBe(10);
  });

  it('names the line of an unknown placeholder, a broken regex and a bad cooldown', () => {
    const { resources, errors } = parseResources(
      rule(['params:', '  service: "{{ labels.service | shell }}"']).replace('{ alertname: ServiceDown }', '{ alertname: "/(/" }'),
      'rules.yaml',
    );
    expect(resources).toEqual([]);
    expect(errors.map((e) => [e.line, e.message])).toEqual([
      [4, expect.stringContaining('match.alertname: not a valid regular expression')],
      [9, expect.stringContaining('params.service: {{ labels.service | shell }} is not a placeholder')],
    ]);
    const badCooldown = parseResources(rule([]).replace('30m', 'soon'), 'rules.yaml');
    expect(badCooldown.errors[0]).toMatchObject({ line: 6, message: expect.stringContaining('cooldown') });
  });
});
