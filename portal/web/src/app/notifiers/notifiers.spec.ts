import { deliveryStatusClass, describeDelivery, describeListening, describeTarget, notifierBody, type NotifierForm } from './notifiers';

const form = (fields: Partial<NotifierForm>): NotifierForm => ({
  id: 'ops-hook',
  type: 'webhook',
  url: '',
  urlSecret: '',
  hmacSecret: '',
  to: '',
  from: '',
  smtpHost: '',
  smtpPort: '',
  smtpSecurity: 'starttls',
  smtpUser: '',
  smtpPasswordSecret: '',
  on: ['execution.failed'],
  namespaces: '',
  runbooks: '',
  ...fields,
});

const delivery = (fields: Record<string, unknown>) =>
  ({
    id: '1',
    event: { id: 'e', type: 'execution.failed', title: 'x failed', occurredAt: '2025-01-01T00:00:00Z' },
    status: 'pending',
    attempts: 0,
    nextAttemptAt: '2025-01-01T00:00:05Z',
    lastAttemptAt: null,
    lastStatus: null,
    lastError: null,
    createdAt: '2025-01-01T00:00:00Z',
    deliveredAt: null,
    ...fields,
  }) as never;

describe('notifiers in words', () => {
  it('says where a notifier sends without showing a secret', () => {
    expect(describeTarget({ type: 'webhook', url: 'https://hooks.example/x' })).toBe('https://hooks.example/x');
    expect(describeTarget({ type: 'slack', urlSecret: 'ops-slack-url' })).toBe('URL in secret ops-slack-url');
    expect(
      describeTarget({ type: 'email', to: ['a@x.org', 'b@x.org'], smtp: { host: 'mail.x.org', port: 587, security: 'starttls' } }),
    ).toBe('a@x.org, b@x.org via mail.x.org:587');
  });

  it('says what it listens to, and where', () => {
    expect(describeListening({ on: [] })).toBe('only runbooks and jobs that name it');
    expect(describeListening({ on: ['execution.failed', 'node.lost'], match: { namespaces: ['ops'], triggers: ['schedule'] } })).toBe(
      'execution.failed, node.lost in namespaces ops; started by schedule',
    );
  });

  it('tells a delivery attempt by attempt', () => {
    const time = (at: string | null) => `at ${at}`;
    expect(describeDelivery(delivery({}), time)).toBe('waiting for its first attempt');
    expect(describeDelivery(delivery({ attempts: 2, lastError: 'HTTP 500' }), time)).toBe(
      '2 attempts so far: HTTP 500; next at 2025-01-01T00:00:05Z',
    );
    expect(describeDelivery(delivery({ status: 'delivered', attempts: 1 }), time)).toBe('delivered after 1 attempt');
    expect(describeDelivery(delivery({ status: 'dead', attempts: 10, lastError: 'no answer within 10000 ms (timeout)' }), time)).toBe(
      'gave up after 10 attempts: no answer within 10000 ms (timeout)',
    );
    expect(deliveryStatusClass('dead')).toBe('failed');
  });
});

describe('the create form', () => {
  it('builds a webhook with its URL, signing secret and match', () => {
    expect(notifierBody(form({ url: ' https://hooks.example/x ', hmacSecret: 'key', namespaces: 'ops, web', runbooks: '' }))).toEqual({
      body: {
        id: 'ops-hook',
        type: 'webhook',
        on: ['execution.failed'],
        url: 'https://hooks.example/x',
        hmacSecret: 'key',
        match: { namespaces: ['ops', 'web'] },
      },
    });
  });

  it('builds an email notifier with STARTTLS on 587 unless told otherwise', () => {
    const built = notifierBody(
      form({ type: 'email', to: 'ops@x.org', from: 'baton@x.org', smtpHost: 'mail.x.org', smtpPasswordSecret: 'smtp' }),
    );
    expect(built).toEqual({
      body: expect.objectContaining({
        to: ['ops@x.org'],
        from: 'baton@x.org',
        smtp: { host: 'mail.x.org', port: 587, security: 'starttls', passwordSecret: 'smtp' },
      }),
    });
  });

  it('names what is missing before anything is sent', () => {
    expect(notifierBody(form({ id: ' ', type: 'slack' }))).toEqual({
      problems: ['Name: required, e.g. ops-slack', 'URL secret: the stored secret holding the slack incoming-webhook URL'],
    });
    expect(notifierBody(form({ url: 'https://x', urlSecret: 'y' }))).toEqual({
      problems: ['URL: give either the URL or the secret holding it'],
    });
    expect(notifierBody(form({ type: 'email', smtpPort: '99999' }))).toMatchObject({
      problems: expect.arrayContaining(['To: at least one address', 'SMTP port: a number from 1 to 65535']),
    });
  });
});
