import {
  AlertOutcome,
  DeliveryView,
  alertmanagerReceiverSnippet,
  describeBreaker,
  describeOutcome,
  formatMatch,
  genericCurlSnippet,
  hookNameProblem,
  hookUrl,
  outcomeSubject,
  summarizeDelivery,
} from './alerts';

const outcome = (fields: Partial<AlertOutcome>): AlertOutcome => ({ fingerprint: 'f1', status: 'firing', result: 'no-rule', ...fields });

const delivery = (fields: Partial<DeliveryView>): DeliveryView => ({
  id: '1',
  receivedAt: '2025-01-01T00:00:00Z',
  source: '127.0.0.1',
  status: 'processed',
  processedAt: '2025-01-01T00:00:01Z',
  error: null,
  outcomes: [],
  ...fields,
});

describe('delivery outcomes', () => {
  it('says what each alert caused, naming the rule and the reason of an error', () => {
    expect(describeOutcome(outcome({ result: 'started', rule: 'ops.service-down', executionId: 'e1' }))).toBe(
      'started a remediation (rule ops.service-down)',
    );
    expect(describeOutcome(outcome({ result: 'duplicate' }))).toBe('duplicate: this episode was already remediated');
    expect(describeOutcome(outcome({ result: 'suppressed', rule: 'ops.service-down' }))).toBe(
      'suppressed: the circuit breaker of ops.service-down is open',
    );
    expect(describeOutcome(outcome({ result: 'no-rule' }))).toBe('no rule matched');
    expect(describeOutcome(outcome({ result: 'resolved', status: 'resolved' }))).toBe('resolved: nothing to run');
    expect(describeOutcome(outcome({ result: 'error', message: 'no node named web-9' }))).toBe('error: no node named web-9');
  });

  it('names the alert by its alertname, or by its fingerprint when it has none', () => {
    expect(outcomeSubject(outcome({ alertname: 'ServiceDown' }))).toBe('ServiceDown (firing)');
    expect(outcomeSubject(outcome({ fingerprint: 'abc123', status: 'resolved' }))).toBe('abc123 (resolved)');
  });

  it('sums up a delivery: pending, failed with its error, or counts of outcomes', () => {
    expect(summarizeDelivery(delivery({ status: 'pending', processedAt: null }))).toBe('waiting to be processed');
    expect(summarizeDelivery(delivery({ status: 'failed', error: 'database gone' }))).toBe('failed: database gone');
    expect(summarizeDelivery(delivery({ outcomes: [] }))).toBe('no alerts');
    const outcomes = [outcome({ result: 'started' }), outcome({ result: 'duplicate' }), outcome({ result: 'started' })];
    expect(summarizeDelivery(delivery({ outcomes }))).toBe('2 started, 1 duplicate');
  });
});

describe('alert rules', () => {
  it('writes a match as its labels, regular expressions as written', () => {
    expect(formatMatch({ alertname: 'ServiceDown', severity: '/critical|page/' })).toBe('alertname=ServiceDown, severity=/critical|page/');
  });

  it('tells an open breaker from a closed one, with its use this hour', () => {
    const breaker = { startedInWindow: 3, maxPerHour: 3, trippedAt: null, resetAt: null };
    expect(describeBreaker({ ...breaker, isTripped: true, trippedAt: '2025-01-01T00:00:00Z' })).toBe('open (3 of 3 this hour)');
    expect(describeBreaker({ ...breaker, startedInWindow: 1, isTripped: false })).toBe('closed (1 of 3 this hour)');
  });
});

describe('hook set-up', () => {
  const hook = { name: 'alertmanager-prod', url: '/api/v1/hooks/alertmanager/alertmanager-prod' };

  it('refuses hook names the API refuses, before sending', () => {
    expect(hookNameProblem('alertmanager-prod')).toBeNull();
    expect(hookNameProblem('')).toMatch(/name/);
    expect(hookNameProblem('Prod Hooks')).toMatch(/Lower-case/);
    expect(hookNameProblem('-x')).toMatch(/Lower-case/);
    expect(hookNameProblem('a'.repeat(65))).toMatch(/64/);
  });

  it('builds the full address from the portal origin, with or without a trailing slash', () => {
    expect(hookUrl(hook, 'https://baton.example.com/')).toBe('https://baton.example.com/api/v1/hooks/alertmanager/alertmanager-prod');
  });

  it('gives an Alertmanager receiver that posts resolved alerts with the token from a file', () => {
    const snippet = alertmanagerReceiverSnippet(hook, 'https://baton.example.com');
    expect(snippet).toContain('- name: baton-alertmanager-prod');
    expect(snippet).toContain('- url: https://baton.example.com/api/v1/hooks/alertmanager/alertmanager-prod');
    expect(snippet).toContain('send_resolved: true');
    expect(snippet).toMatch(/authorization:\n {12}credentials_file: /);
  });

  it('gives a curl line that signs the exact body for a generic hook', () => {
    const snippet = genericCurlSnippet({ url: '/api/v1/hooks/generic/zabbix' }, 'http://localhost:3000');
    expect(snippet).toContain('curl -X POST http://localhost:3000/api/v1/hooks/generic/zabbix');
    expect(snippet).toContain('x-baton-signature: sha256=$sig');
  });
});
