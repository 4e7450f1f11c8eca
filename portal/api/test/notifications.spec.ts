/**
 * Notifications end to end on the local node: notifiers made through the API and from files, deliveries to a real
 * HTTP receiver started here (HMAC checked, failures retried with backoff until delivered once, a hanging receiver
 * timed out and given up as dead, never blocking the run), to a real SMTP server (smtp-server) over STARTTLS with a
 * login, runbooks naming their notifiers, alert rules and pools telling theirs, and no secret in any message; and a
 * portal process killed between attempts, or before it announced an outcome, losing nothing and sending nothing twice.
 */
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  createTestEnv,
  destroyTestEnv,
  freePort,
  portalEnv,
  PortalProcess,
  sleep,
  startPortal,
  type Portal,
  type TestEnv,
} from './harness';
import { HttpReceiver, mailText, selfSignedCertificate, SmtpReceiver } from './receivers';
import { RunNotices } from '../src/notifications/run-notices.service';

jest.setTimeout(120_000);

const SECRET_TOKEN = 's3cr3t-notify-value';
const HMAC_KEY = 'webhook-signing-key-for-tests';
const PUBLIC_URL = 'https://baton.example';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('notifications', () => {
  let env: TestEnv;
  let portal: Portal;
  const receiver = new HttpReceiver();

  const webhook = (id: string, fields: Record<string, unknown> = {}) =>
    portal.request('POST', '/api/v1/notifiers', {
      id,
      type: 'webhook',
      url: `${receiver.url}/${id}`,
      hmacSecret: 'hook-key',
      on: ['execution.failed'],
      match: { runbooks: [`nobody.${id}`] }, // each test widens the match to what it runs
      retry: { attempts: 3, backoff: '300ms' },
      timeout: '1s',
      ...fields,
    });
  const deliveries = async (notifier: string): Promise<any[]> =>
    (await portal.request('GET', `/api/v1/notifiers/${notifier}/deliveries`)).body;
  const settled = (notifier: string, count = 1) =>
    waitFor(`${count} settled deliveries of ${notifier}`, async () => {
      const list = await deliveries(notifier);
      return list.length >= count && list.every((d) => d.status !== 'pending') && list;
    });

  beforeAll(async () => {
    env = await createTestEnv(join(__dirname, 'runbooks-notify'));
    await receiver.start();
    portal = await startPortal(env, { NATS_URL: '', BATON_PUBLIC_URL: PUBLIC_URL });
    for (const [name, value] of [
      ['notify-token', SECRET_TOKEN],
      ['hook-key', HMAC_KEY],
    ])
      expect((await portal.request('PUT', `/api/v1/secrets/${name}`, { value })).status).toBe(200);
  });

  // Each test's notifiers stop listening when it ends, so later runs do not reach them.
  afterEach(async () => {
    for (const notifier of (await portal.request('GET', '/api/v1/notifiers')).body as {
      id: string;
      enabled: boolean;
      sourceFile: string | null;
    }[]) {
      if (notifier.enabled && !notifier.sourceFile) await portal.request('PATCH', `/api/v1/notifiers/${notifier.id}`, { enabled: false });
    }
  });

  afterAll(async () => {
    await portal?.close();
    await receiver.stop();
    if (env) await destroyTestEnv(env);
  });

  it('signs the body, and tells what failed with the masked end of its log and a link into the UI', async () => {
    expect((await webhook('signed', { match: { namespaces: ['notify'], runbooks: ['notify.fail'] } })).status).toBe(201);
    const executionId = await portal.run('notify.fail', {});
    expect((await portal.waitForEnd(executionId)).status).toBe('failed');

    const [request] = await receiver.waitFor('/signed', 1);
    const expected = createHmac('sha256', HMAC_KEY).update(request.body).digest('hex');
    expect(request.headers['x-baton-signature']).toBe(`sha256=${expected}`);
    expect(request.headers['idempotency-key']).toBe(`execution.failed/${executionId}`);
    expect(request.headers['x-baton-event']).toBe('execution.failed');
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({
      id: `execution.failed/${executionId}`,
      type: 'execution.failed',
      title: 'notify.fail failed',
      link: `${PUBLIC_URL}/executions/${executionId}`,
      run: {
        runbook: 'notify.fail',
        runbookTitle: 'Fail after printing a secret',
        status: 'failed',
        triggeredBy: 'user admin',
        nodes: [{ node: 'local', status: 'failed' }],
        failingStep: { node: 'local', step: 'check', exitCode: 3 },
      },
    });
    expect(body.run.durationMs).toEqual(expect.any(Number));
    // The last 20 lines: the loop's end and the secret, masked.
    expect(body.run.failingStep.logTail).toHaveLength(20);
    expect(body.run.failingStep.logTail.slice(-2)).toEqual(['line 25', 'token is ***']);
    expect(body.text).toContain('Failing step: check on local, exit 3');
    expect(request.body).not.toContain(SECRET_TOKEN);

    const [delivery] = await settled('signed');
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1, lastStatus: 200, event: { type: 'execution.failed' } });
  });

  it('retries a receiver that answers 500 twice, then delivers once, with the same event id every time', async () => {
    expect((await webhook('flaky', { match: { runbooks: ['notify.fail'] } })).status).toBe(201);
    receiver.answer('/flaky', 500, 500);
    const executionId = await portal.run('notify.fail', {});
    const [delivery] = await settled('flaky');
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, lastStatus: 200, lastError: null });
    await sleep(1000); // nothing more comes
    const requests = receiver.on('/flaky');
    expect(requests.map((r) => r.answer)).toEqual([500, 500, 200]);
    expect(new Set(requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set([`execution.failed/${executionId}`]));
    expect(requests.map((r) => r.headers['x-baton-attempt'])).toEqual(['1', '2', '3']);
  });

  it('times out a receiver that hangs, retries, then gives up dead with the last error, without holding up the run', async () => {
    expect((await webhook('hanging', { match: { runbooks: ['notify.fail'] }, retry: { attempts: 2, backoff: '200ms' } })).status).toBe(201);
    receiver.answer('/hanging', 'hang', 'hang');
    const startedAt = Date.now();
    const executionId = await portal.run('notify.fail', {});
    await portal.waitForEnd(executionId);
    const [delivery] = await settled('hanging');
    expect(delivery).toMatchObject({ status: 'dead', attempts: 2, lastError: 'no answer within 1000 ms (timeout)' });
    expect(receiver.on('/hanging')).toHaveLength(2);
    // Both attempts waited their full timeout, after the run had ended.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2000);
  });

  it('gives up on a receiver that refuses connections, naming why', async () => {
    expect(
      (
        await webhook('refused', {
          url: `http://127.0.0.1:${await freePort()}/x`,
          match: { runbooks: ['notify.fail'] },
          retry: { attempts: 2, backoff: '100ms' },
        })
      ).status,
    ).toBe(201);
    await portal.run('notify.fail', {});
    const [delivery] = await settled('refused');
    expect(delivery.status).toBe('dead');
    expect(delivery.lastError).toContain('ECONNREFUSED');
  });

  it('tells the notifiers a runbook names, for the outcomes it names, as Slack and Teams messages', async () => {
    for (const [name, value] of [
      ['slack-url', `${receiver.url}/slack`],
      ['teams-url', `${receiver.url}/teams`],
    ])
      await portal.request('PUT', `/api/v1/secrets/${name}`, { value });
    expect((await portal.request('POST', '/api/v1/notifiers', { id: 'chat-named', type: 'slack', urlSecret: 'slack-url' })).status).toBe(
      201,
    );
    const teams = {
      id: 'teams-ok',
      type: 'teams',
      urlSecret: 'teams-url',
      on: ['execution.succeeded'],
      match: { runbooks: ['notify.named'] },
    };
    expect((await portal.request('POST', '/api/v1/notifiers', teams)).status).toBe(201);

    const executionId = await portal.run('notify.named', {});
    const [slack] = await receiver.waitFor('/slack', 1);
    expect(JSON.parse(slack.body).text).toContain('*notify.named succeeded*');
    expect(JSON.parse(slack.body).text).toContain(`<${PUBLIC_URL}/executions/${executionId}|Open in Baton>`);
    const [card] = await receiver.waitFor('/teams', 1);
    expect(JSON.parse(card.body).attachments[0].content.body[0]).toMatchObject({ text: 'notify.named succeeded', color: 'Good' });

    // notify.named names chat-named for succeeded only; notify.ok names nobody.
    await portal.waitForEnd(await portal.run('notify.ok', {}));
    await sleep(1000);
    expect(receiver.on('/slack')).toHaveLength(1);
  });

  it('stores an event once: announcing the same outcome again sends nothing more', async () => {
    expect((await webhook('once', { on: ['execution.succeeded'], match: { runbooks: ['notify.ok'] } })).status).toBe(201);
    const executionId = await portal.run('notify.ok', {});
    await settled('once');
    await portal.app.get(RunNotices).announce(executionId, 'execution.succeeded');
    await sleep(1000);
    expect(await deliveries('once')).toHaveLength(1);
    expect(receiver.on('/once')).toHaveLength(1);
  });

  it('sends mail through a real SMTP server over STARTTLS with a login, and refuses a server without STARTTLS', async () => {
    const tls = selfSignedCertificate();
    const smtp = await new SmtpReceiver(tls, { user: 'baton', password: 'smtp-pass-123' }).start();
    const plain = await new SmtpReceiver(tls, { user: 'baton', password: 'smtp-pass-123' }, true).start();
    try {
      await portal.request('PUT', '/api/v1/secrets/smtp-password', { value: 'smtp-pass-123' });
      const mail = (id: string, port: number) => ({
        id,
        type: 'email',
        to: ['ops@example.org'],
        from: 'baton@example.org',
        smtp: { host: '127.0.0.1', port, user: 'baton', passwordSecret: 'smtp-password', ca: tls.cert },
        on: ['execution.failed'],
        match: { runbooks: ['notify.fail'] },
        retry: { attempts: 2, backoff: '200ms' },
        timeout: '2s',
      });
      expect((await portal.request('POST', '/api/v1/notifiers', mail('mail-tls', smtp.port))).status).toBe(201);
      expect((await portal.request('POST', '/api/v1/notifiers', mail('mail-plain', plain.port))).status).toBe(201);
      const executionId = await portal.run('notify.fail', {});

      const [message] = await smtp.waitFor(1);
      expect(message).toMatchObject({ from: 'baton@example.org', to: ['ops@example.org'], isSecure: true, user: 'baton' });
      const text = mailText(message.raw);
      expect(text).toContain('Subject: [Baton] notify.fail failed');
      expect(text).toContain(`Message-ID: <execution.failed%2F${executionId}.mail-tls@baton>`);
      expect(text).toContain('token is ***');
      expect(text).toContain(`Open in Baton: ${PUBLIC_URL}/executions/${executionId}`);
      expect(message.raw).not.toContain(SECRET_TOKEN);
      expect(await settled('mail-tls')).toMatchObject([{ status: 'delivered', lastStatus: 250 }]);

      const [refused] = await settled('mail-plain');
      expect(refused.status).toBe('dead');
      expect(refused.lastError).toMatch(/^SMTP: .*STARTTLS/);
      expect(plain.received).toEqual([]);
    } finally {
      await smtp.stop();
      await plain.stop();
    }
  });

  it('tells when an alert rule trips its circuit breaker', async () => {
    const hook = await portal.request('POST', '/api/v1/hooks', { name: 'gen', type: 'generic' });
    expect(hook.status).toBe(201);
    // maxPerHour left out: the documented default applies; lowered to 1 to trip the breaker quickly.
    const rule = await portal.request('POST', '/api/v1/alert-rules', {
      id: 'notify.on-alert',
      match: { alertname: 'Disk' },
      runbook: 'notify.ok',
      cooldown: '1h',
    });
    expect(rule.status).toBe(201);
    expect(rule.body.maxPerHour).toBe(10);
    expect((await portal.request('PATCH', '/api/v1/alert-rules/notify.on-alert', { maxPerHour: 1 })).body.maxPerHour).toBe(1);
    expect((await webhook('tripped', { on: ['alert.rule.tripped'], match: { namespaces: ['notify'] } })).status).toBe(201);

    const post = (fingerprint: string) => {
      const body = JSON.stringify({ alerts: [{ labels: { alertname: 'Disk' }, fingerprint, startsAt: new Date().toISOString() }] });
      const signature = createHmac('sha256', hook.body.token).update(body).digest('hex');
      return fetch(`${portal.url}/api/v1/hooks/generic/gen`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-baton-signature': `sha256=${signature}` },
        body,
      });
    };
    for (const fingerprint of ['a1', 'a2', 'a3']) expect((await post(fingerprint)).status).toBe(202);

    const [request] = await receiver.waitFor('/tripped', 1);
    expect(JSON.parse(request.body)).toMatchObject({
      type: 'alert.rule.tripped',
      scope: { namespace: 'notify', runbook: 'notify.ok', trigger: 'webhook' },
      alertRule: { id: 'notify.on-alert', maxPerHour: 1, startedInWindow: 1, hook: 'gen', alertname: 'Disk', fingerprint: 'a2' },
      link: `${PUBLIC_URL}/alerts`,
    });
    await sleep(1000); // the third alert finds the breaker open already: no second message
    expect(receiver.on('/tripped')).toHaveLength(1);
  });

  it('tells when a pool action fails', async () => {
    const pool = {
      id: 'notify.pool',
      selector: { labels: { pool: 'notify' } },
      min: 0,
      max: 3,
      scaleOut: { runbook: 'notify.fail' },
      scaleIn: { runbook: 'notify.fail' },
    };
    expect((await portal.request('POST', '/api/v1/pools', pool)).status).toBe(201);
    expect((await webhook('pools', { on: ['pool.action.failed'], match: { namespaces: ['notify'], triggers: ['user'] } })).status).toBe(
      201,
    );
    const action = await portal.request('POST', '/api/v1/pools/notify.pool/scale', { by: 1, reason: 'test a failing provider' });
    expect(action.status).toBe(202);

    const [request] = await receiver.waitFor('/pools', 1);
    expect(JSON.parse(request.body)).toMatchObject({
      id: `pool.action.failed/${action.body.id}`,
      title: 'Pool notify.pool: scaling from 0 to 1 nodes failed',
      poolAction: {
        pool: 'notify.pool',
        from: 0,
        to: 1,
        requestedBy: 'user admin',
        message: expect.stringContaining('notify.fail ended failed'),
      },
    });
  });

  it('loads notifiers from files and leaves their changes to the file', async () => {
    const list = (await portal.request('GET', '/api/v1/notifiers')).body as any[];
    expect(list.find((n) => n.id === 'from-file')).toMatchObject({
      sourceFile: expect.stringContaining('notify.yaml'),
      retry: { attempts: 10 },
    });
    expect((await portal.request('PATCH', '/api/v1/notifiers/from-file', { enabled: false })).status).toBe(409);
    expect((await portal.request('DELETE', '/api/v1/notifiers/from-file')).status).toBe(409);
  });

  it('refuses bad notifiers with the field and the reason', async () => {
    const slackInClear = await portal.request('POST', '/api/v1/notifiers', {
      id: 'clear',
      type: 'slack',
      url: 'https://hooks.slack.com/services/x',
    });
    expect(slackInClear.status).toBe(400);
    expect(slackInClear.body.message).toContain('url: a slack incoming-webhook URL is a credential');
    const unknownSecret = await portal.request('POST', '/api/v1/notifiers', {
      id: 'nosecret',
      type: 'webhook',
      url: 'https://x.example',
      hmacSecret: 'nope',
    });
    expect(unknownSecret.status).toBe(400);
    expect(unknownSecret.body.message).toContain('hmacSecret: secret "nope" does not exist');
    expect((await webhook('signed')).status).toBe(409);
    expect((await portal.request('GET', '/api/v1/notifiers/missing/deliveries')).status).toBe(404);
    expect((await portal.request('GET', '/api/v1/notifiers/signed/deliveries?status=lost')).status).toBe(400);
    const changed = await portal.request('PATCH', '/api/v1/notifiers/signed', { timeout: '2m' });
    expect(changed.status).toBe(400);
    expect(changed.body.message).toContain('timeout: must be a duration of at most 60s');
  });

  it('sends a test message through the outbox to one notifier', async () => {
    expect((await webhook('tester', { on: [] })).status).toBe(201);
    const sent = await portal.request('POST', '/api/v1/notifiers/tester/test');
    expect(sent.status).toBe(202);
    const [request] = await receiver.waitFor('/tester', 1);
    expect(JSON.parse(request.body)).toMatchObject({ type: 'notifier.test', title: 'Test message from Baton, sent by admin' });
    const list = await settled('tester');
    expect(list[0]).toMatchObject({ event: { id: sent.body.eventId, type: 'notifier.test' }, status: 'delivered' });
  });

  it('never stores a secret value in an event or a delivery', async () => {
    const db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT payload::text AS payload FROM notification_events`);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.payload).not.toContain(SECRET_TOKEN);
      const errors = await db.query(`SELECT last_error FROM notification_deliveries WHERE last_error IS NOT NULL`);
      for (const row of errors.rows) expect(row.last_error).not.toContain(SECRET_TOKEN);
    } finally {
      await db.end();
    }
  });
});

describe('notifications across a portal crash', () => {
  let env: TestEnv;
  let portal: PortalProcess | undefined;
  let db: Client;
  const receiver = new HttpReceiver();
  const start = async () => (portal = await new PortalProcess(portalEnv(env, { NATS_URL: '', BATON_PUBLIC_URL: PUBLIC_URL })).start());
  const delivery = async (notifier: string) =>
    (await db.query(`SELECT status, attempts, event_id FROM notification_deliveries WHERE notifier_id = $1`, [notifier])).rows;

  beforeAll(async () => {
    env = await createTestEnv(join(__dirname, 'runbooks-notify'));
    await receiver.start();
    db = new Client({ connectionString: env.databaseUrl });
    await start();
    await db.connect();
    const api = portal!.portal;
    await api.request('PUT', '/api/v1/secrets/notify-token', { value: SECRET_TOKEN });
    const created = await api.request('POST', '/api/v1/notifiers', {
      id: 'crash',
      type: 'webhook',
      url: `${receiver.url}/crash`,
      on: ['execution.failed'],
      retry: { attempts: 5, backoff: '3s' },
    });
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    await portal?.stop();
    await db?.end();
    await receiver.stop();
    if (env) await destroyTestEnv(env);
  });

  it('delivers exactly once after the portal is killed between two attempts', async () => {
    receiver.answer('/crash', 500);
    const executionId = await portal!.portal.run('notify.fail', {});
    await receiver.waitFor('/crash', 1);
    // Between attempts: the first one's failure is recorded (the next is 3 s away), and then the process dies.
    await waitFor(
      'the failed attempt to be recorded',
      async () =>
        (await db.query(`SELECT 1 FROM notification_deliveries WHERE notifier_id = 'crash' AND last_error = 'HTTP 500: receiver says 500'`))
          .rows.length > 0,
    );
    await portal!.kill();
    expect(await delivery('crash')).toEqual([{ status: 'pending', attempts: 1, event_id: `execution.failed/${executionId}` }]);

    await start();
    await receiver.waitFor('/crash', 2);
    await waitFor('the delivery to be recorded', async () => (await delivery('crash'))[0].status === 'delivered');
    await sleep(2000); // nothing is sent again
    const requests = receiver.on('/crash');
    expect(requests.map((r) => r.answer)).toEqual([500, 200]);
    expect(requests.map((r) => r.headers['idempotency-key'])).toEqual([
      `execution.failed/${executionId}`,
      `execution.failed/${executionId}`,
    ]);
    expect(await delivery('crash')).toEqual([{ status: 'delivered', attempts: 2, event_id: `execution.failed/${executionId}` }]);
  });

  it('publishes at the next start an outcome recorded by a portal that died before announcing it', async () => {
    const executionId = await portal!.portal.run('notify.fail', {});
    await receiver.waitFor('/crash', 3);
    await portal!.kill();
    // As if the portal had died between recording the outcome and publishing its event.
    await db.query(`DELETE FROM notification_events WHERE id = $1`, [`execution.failed/${executionId}`]);

    await start();
    const requests = await receiver.waitFor('/crash', 4);
    expect(requests[3].headers['idempotency-key']).toBe(`execution.failed/${executionId}`);
    await sleep(1500);
    expect(receiver.on('/crash')).toHaveLength(4);
  });
});
