/**
 * Alert-webhook remediation end to end: a real Prometheus Alertmanager (Debian's prometheus-alertmanager) posting
 * to the portal's hook, alerts firing, repeating every repeat_interval and resolving; generic HMAC-signed hooks;
 * refused credentials; the circuit breaker; deliveries stored before they are processed, also across a restart and
 * with several replicas sharing the queue.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestEnv, destroyTestEnv, Portal, sleep, startPortal, type TestEnv } from './harness';
import { stopChild } from './processes';

jest.setTimeout(180_000);

const ALERTMANAGER = process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A real Alertmanager with one webhook receiver: the portal's hook, with short group and repeat intervals. */
class AlertmanagerProcess {
  private child?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'baton-alertmanager-'));
  output = '';
  url = '';

  async start(webhookUrl: string, token: string): Promise<void> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    const config = join(this.dir, 'alertmanager.yml');
    writeFileSync(
      config,
      [
        'route:',
        '  receiver: baton',
        "  group_by: ['...']", // every alert its own group, so each one's notifications are easy to follow
        '  group_wait: 1s',
        '  group_interval: 1s',
        '  repeat_interval: 2s',
        'receivers:',
        '  - name: baton',
        '    webhook_configs:',
        `      - url: ${webhookUrl}`,
        '        send_resolved: true',
        '        http_config:',
        '          authorization:',
        `            credentials: ${token}`,
      ].join('\n'),
    );
    this.child = spawn(
      ALERTMANAGER,
      [
        `--config.file=${config}`,
        `--storage.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    await waitFor('Alertmanager to be ready', async () => (await fetch(`${this.url}/-/ready`).catch(() => undefined))?.ok, 15_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${this.output}`);
      },
    );
  }

  /** Posts one alert to Alertmanager's API, as Prometheus would. */
  async post(labels: Record<string, string>, startsAt: Date, endsAt: Date, annotations: Record<string, string> = {}): Promise<void> {
    const res = await fetch(`${this.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels, annotations, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString() }]),
    });
    if (!res.ok) throw new Error(`Alertmanager refused the alert: ${res.status} ${await res.text()}`);
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 5000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const inAnHour = () => new Date(Date.now() + 3_600_000);
interface Outcome {
  fingerprint: string;
  status: string;
  rule?: string;
  result: string;
  executionId?: string;
  message?: string;
}
interface Delivery {
  id: string;
  status: string;
  outcomes: Outcome[];
  payload: any;
}

describe('alert-webhook remediation', () => {
  let env: TestEnv;
  let portal: Portal;
  let db: Client;
  const alertmanager = new AlertmanagerProcess();
  let genericKey = '';

  const deliveries = async (hook: string): Promise<Delivery[]> =>
    (await portal.request('GET', `/api/v1/hooks/${hook}/deliveries?limit=500`)).body;
  const outcomesFor = async (hook: string, rule: string) =>
    (await deliveries(hook)).flatMap((d) => d.outcomes.filter((o) => o.rule === rule).map((o) => ({ ...o, delivery: d })));
  const executionsOf = async (runbook: string, rule: string): Promise<any[]> =>
    (await portal.request('GET', `/api/v1/executions?runbook=${runbook}&limit=1000`)).body.filter((e: any) => e.trigger?.rule === rule);
  const createRule = async (rule: Record<string, unknown>) => {
    const res = await portal.request('POST', '/api/v1/alert-rules', rule);
    expect(res.status).toBe(201);
    return res.body;
  };
  const signedPost = (p: Portal, hook: string, body: string, key: string) =>
    fetch(`${p.url}/api/v1/hooks/generic/${hook}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-baton-signature': `sha256=${createHmac('sha256', key).update(body).digest('hex')}`,
      },
      body,
    });

  beforeAll(async () => {
    env = await createTestEnv(join(__dirname, 'runbooks-hooks'));
    portal = await startPortal(env);
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    const am = await portal.request('POST', '/api/v1/hooks', { name: 'am', type: 'alertmanager' });
    expect(am.status).toBe(201);
    const generic = await portal.request('POST', '/api/v1/hooks', { name: 'gen', type: 'generic', alertsPath: 'data.items' });
    expect(generic.status).toBe(201);
    genericKey = generic.body.token;
    await alertmanager.start(`${portal.url}/api/v1/hooks/alertmanager/am`, am.body.token);
  });

  afterAll(async () => {
    await alertmanager.stop();
    await db?.end();
    await portal?.close();
    if (env) await destroyTestEnv(env);
  });

  it('shows a hook token once and stores only its hash', async () => {
    const created = await portal.request('POST', '/api/v1/hooks', { name: 'once', type: 'alertmanager' });
    expect(created.body).toMatchObject({ name: 'once', type: 'alertmanager', url: '/api/v1/hooks/alertmanager/once' });
    expect(created.body.token).toMatch(/^bh_/);
    const listed = await portal.request('GET', '/api/v1/hooks');
    expect(listed.text).not.toContain(created.body.token);
    const { rows } = await db.query(`SELECT token_hash, secret_ciphertext FROM hooks WHERE name = 'once'`);
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(created.body.token);
    const { rows: generic } = await db.query(`SELECT secret_ciphertext FROM hooks WHERE name = 'gen'`);
    expect(generic[0].secret_ciphertext.toString('utf8')).not.toContain(genericKey);
    expect((await portal.request('POST', '/api/v1/hooks', { name: 'once', type: 'alertmanager' })).status).toBe(409);
    expect((await portal.request('POST', '/api/v1/hooks', { name: 'x', type: 'alertmanager', alertsPath: '$.a' })).status).toBe(400);
    expect((await portal.request('DELETE', '/api/v1/hooks/once')).status).toBe(204);
  });

  it('starts exactly one remediation per firing episode from Alertmanager, with parameters from labels, and runs onResolved once', async () => {
    const rule = 'hooks.service-down';
    await createRule({
      id: rule,
      hook: 'am',
      match: { alertname: 'ServiceDown', service: '/nginx|redis/' },
      runbook: 'hooks.remediate',
      params: { service: '{{ labels.service }}', summary: '{{ annotations.summary }}' },
      targets: { fromLabel: 'instance' },
      onResolved: { runbook: 'hooks.cleanup', params: { service: '{{ labels.service }}' } },
      cooldown: '1h',
      maxPerHour: 10,
    });
    const labels = { alertname: 'ServiceDown', service: 'nginx', instance: 'local:9100' };
    const startsAt = new Date();
    await alertmanager.post(labels, startsAt, inAnHour(), { summary: 'nginx is down' });

    // Alertmanager repeats the firing alert every repeat_interval (2 s): wait for three deliveries of it.
    const firing = await waitFor('three deliveries of the firing alert', async () => {
      const outcomes = (await outcomesFor('am', rule)).filter((o) => o.status === 'firing');
      return outcomes.length >= 3 && outcomes;
    });
    expect(firing.filter((o) => o.result === 'started')).toHaveLength(1);
    expect(firing.filter((o) => o.result === 'duplicate').length).toBeGreaterThanOrEqual(2);
    const runs = await executionsOf('hooks.remediate', rule);
    expect(runs).toHaveLength(1);
    const run = await portal.waitForEnd(runs[0].id);
    expect(run).toMatchObject({
      status: 'succeeded',
      actor: 'webhook:am',
      params: { service: 'nginx', summary: 'nginx is down' },
      targets: { names: ['local'] },
      trigger: { type: 'webhook', hook: 'am', rule, fingerprint: firing[0].fingerprint },
    });
    const logs = await portal.request('GET', `/api/v1/executions/${run.id}/logs`);
    expect(logs.text).toContain('restarting nginx (nginx is down)');

    // Resolved: onResolved runs once, however often the resolution is delivered.
    await sleep(Math.max(0, startsAt.getTime() + 1100 - Date.now()));
    await alertmanager.post(labels, startsAt, new Date(Date.now() - 50), { summary: 'nginx is down' });
    const cleanup = await waitFor('the onResolved run', async () => {
      const found = await executionsOf('hooks.cleanup', rule);
      return found.length > 0 && found;
    });
    expect(cleanup[0]).toMatchObject({ params: { service: 'nginx' }, trigger: { type: 'webhook', rule } });
    await sleep(3000);
    expect(await executionsOf('hooks.cleanup', rule)).toHaveLength(1);
    expect(await executionsOf('hooks.remediate', rule)).toHaveLength(1);

    const audit = await portal.request('GET', `/api/v1/audit?action=hook.received&target=hook:am&limit=5`);
    expect(audit.body.items[0]).toMatchObject({ actor: { type: 'webhook', name: 'am' }, details: { status: 202 } });
  });

  it('trips the circuit breaker past maxPerHour, audits it, and resumes after an admin reset', async () => {
    const rule = 'hooks.flappy';
    await createRule({
      id: rule,
      match: { alertname: 'Flappy' },
      runbook: 'hooks.remediate',
      params: { service: 'flappy' },
      cooldown: '1h',
      maxPerHour: 2,
    });
    const labels = { alertname: 'Flappy', instance: 'web-7:9100' };
    const resultOf = async (startsAt: Date) => {
      const iso = startsAt.toISOString().replace(/\.000Z$/, 'Z');
      const outcomes = await outcomesFor('am', rule);
      return outcomes.find((o) => o.status === 'firing' && [iso, startsAt.toISOString()].includes(o.delivery.payload.alerts[0]?.startsAt));
    };
    // Three firing episodes of the same alert: fire, get handled, resolve.
    const results: string[] = [];
    for (let episode = 0; episode < 3; episode++) {
      const startsAt = new Date(Math.floor(Date.now() / 1000) * 1000);
      await alertmanager.post(labels, startsAt, inAnHour());
      const outcome = await waitFor(`episode ${episode + 1} handled`, () => resultOf(startsAt));
      results.push(outcome.result);
      if (episode < 2) {
        // A resolution must end after the alert started (Alertmanager refuses otherwise): let a moment pass first.
        await sleep(Math.max(0, startsAt.getTime() + 1100 - Date.now()));
        await alertmanager.post(labels, startsAt, new Date(Date.now() - 50));
        await waitFor(
          `episode ${episode + 1} resolved`,
          async () => (await outcomesFor('am', rule)).filter((o) => o.status === 'resolved').length > episode,
        );
        await sleep(1100); // the next episode starts strictly later (startsAt has whole seconds here)
      }
    }
    expect(results).toEqual(['started', 'started', 'suppressed']);
    expect(await executionsOf('hooks.remediate', rule)).toHaveLength(2);

    const shown = (await portal.request('GET', `/api/v1/alert-rules/${rule}`)).body;
    expect(shown.breaker).toMatchObject({ isTripped: true, startedInWindow: 2, maxPerHour: 2 });
    const tripped = await portal.request('GET', `/api/v1/audit?action=alert.rule.tripped&target=alert-rule:${rule}`);
    expect(tripped.body.items).toHaveLength(1);
    expect(tripped.body.items[0].details).toMatchObject({ maxPerHour: 2, startedInWindow: 2 });
    const metrics = await (await fetch(`${portal.url}/metrics`)).text();
    expect(metrics).toContain(`baton_alert_rule_tripped{rule="${rule}"} 1`);
    expect(metrics).toMatch(new RegExp(`baton_alert_remediations_suppressed_total\\{rule="${rule}"\\} [1-9]`));

    // Still firing: the next repeat after the reset starts the suppressed episode's remediation.
    const reset = await portal.request('POST', `/api/v1/alert-rules/${rule}/reset`);
    expect(reset.status).toBe(200);
    expect(reset.body.breaker).toMatchObject({ isTripped: false, startedInWindow: 0 });
    expect(await (await fetch(`${portal.url}/metrics`)).text()).toContain(`baton_alert_rule_tripped{rule="${rule}"} 0`);
    await waitFor(
      'the suppressed episode remediated after the reset',
      async () => (await executionsOf('hooks.remediate', rule)).length === 3,
    );
    expect((await fetch(`${portal.url}/metrics`).then((r) => r.text())).includes(`baton_alert_rule_tripped{rule="${rule}"} 0`)).toBe(true);
  });

  it('refuses a wrong or missing bearer token and a bad signature with 401, and audits each refusal', async () => {
    const payload = JSON.stringify({ version: '4', status: 'firing', alerts: [] });
    const post = (path: string, headers: Record<string, string>) =>
      fetch(`${portal.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload });
    expect((await post('/api/v1/hooks/alertmanager/am', { authorization: 'Bearer bh_wrong' })).status).toBe(401);
    expect((await post('/api/v1/hooks/alertmanager/am', {})).status).toBe(401);
    expect((await post('/api/v1/hooks/alertmanager/nosuchhook', { authorization: 'Bearer bh_wrong' })).status).toBe(401);
    const wrongKey = createHmac('sha256', 'not-the-key').update(payload).digest('hex');
    expect((await post('/api/v1/hooks/generic/gen', { 'x-baton-signature': `sha256=${wrongKey}` })).status).toBe(401);
    expect((await post('/api/v1/hooks/generic/gen', {})).status).toBe(401);
    // A signature of other bytes than those sent: the body was changed on the way.
    const ofOtherBody = createHmac('sha256', genericKey).update(`${payload} `).digest('hex');
    expect((await post('/api/v1/hooks/generic/gen', { 'x-baton-signature': `sha256=${ofOtherBody}` })).status).toBe(401);

    const refused = await waitFor('the refusals in the audit log', async () => {
      const items = (await portal.request('GET', '/api/v1/audit?action=hook.received&limit=100')).body.items.filter(
        (e: any) => e.details.status === 401,
      );
      return items.length >= 6 && items;
    });
    expect(refused[0]).toMatchObject({ actor: { type: 'anonymous' }, details: { error: 'missing or wrong credentials for this hook' } });
    expect(refused.map((e: any) => e.target)).toEqual(expect.arrayContaining(['hook:am', 'hook:gen', 'hook:nosuchhook']));
  });

  it('accepts a generic hook signed with its HMAC key, finds alerts at its path and starts the matching rule', async () => {
    const rule = 'hooks.disk-full';
    await createRule({
      id: rule,
      hook: 'gen',
      match: { alertname: 'DiskFull' },
      runbook: 'hooks.remediate',
      params: { service: '{{ labels.service }}', summary: '{{ annotations.summary }} ({{ status }})' },
      targets: { local: true },
      cooldown: '10m',
      maxPerHour: 5,
    });
    const body = JSON.stringify({
      data: {
        items: [
          {
            labels: { alertname: 'DiskFull', service: 'postgres' },
            annotations: { summary: '/var 97%' },
            startsAt: '2025-11-24T10:00:00Z',
          },
          { labels: { alertname: 'SomethingElse' } },
        ],
      },
    });
    const res = await signedPost(portal, 'gen', body, genericKey);
    expect(res.status).toBe(202);
    const run = await waitFor('the remediation', async () => (await executionsOf('hooks.remediate', rule))[0]);
    expect(run).toMatchObject({ actor: 'webhook:gen', params: { service: 'postgres', summary: '/var 97% (firing)' } });
    const [delivery] = await deliveries('gen');
    expect(delivery.outcomes.map((o) => o.result)).toEqual(['started', 'no-rule']);
    // The same alert again: a duplicate, not a second run.
    expect((await signedPost(portal, 'gen', body, genericKey)).status).toBe(202);
    await waitFor('the second delivery processed', async () => (await deliveries('gen'))[0].status === 'processed');
    expect((await deliveries('gen'))[0].outcomes[0]).toMatchObject({ result: 'duplicate' });
    expect(await executionsOf('hooks.remediate', rule)).toHaveLength(1);
  });

  it('records an error outcome when the rendered parameters fail the runbook specs, and starts nothing', async () => {
    const rule = 'hooks.bad-params';
    await createRule({
      id: rule,
      hook: 'gen',
      match: { alertname: 'Injection' },
      runbook: 'hooks.remediate',
      params: { service: '{{ labels.service }}' },
      cooldown: '1m',
      maxPerHour: 5,
    });
    const body = JSON.stringify({ data: { items: [{ labels: { alertname: 'Injection', service: 'x; rm -rf /' } }] } });
    expect((await signedPost(portal, 'gen', body, genericKey)).status).toBe(202);
    const outcome = await waitFor('the outcome', async () => (await outcomesFor('gen', rule))[0]);
    expect(outcome).toMatchObject({ result: 'error', message: expect.stringContaining('params.service: must match') });
    expect(await executionsOf('hooks.remediate', rule)).toHaveLength(0);
  });

  it('manages rules through the API: validation, file rules read-only, namespaces', async () => {
    const bad = await portal.request('POST', '/api/v1/alert-rules', {
      id: 'hooks.bad',
      match: { a: '/(/' },
      runbook: 'hooks.remediate',
      cooldown: '1m',
      maxPerHour: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('match.a: not a valid regular expression');
    const noRunbook = await portal.request('POST', '/api/v1/alert-rules', {
      id: 'hooks.none',
      match: { a: 'b' },
      runbook: 'hooks.nope',
      cooldown: '1m',
      maxPerHour: 1,
    });
    expect(noRunbook.body.message).toContain('runbook "hooks.nope" not found');
    const fromFile = await portal.request('GET', '/api/v1/alert-rules/hooks.from-file');
    expect(fromFile.body).toMatchObject({ sourceFile: expect.stringContaining('hooks.yaml'), breaker: { isTripped: false } });
    expect((await portal.request('PATCH', '/api/v1/alert-rules/hooks.from-file', { maxPerHour: 9 })).status).toBe(409);
    const patched = await portal.request('PATCH', '/api/v1/alert-rules/hooks.bad-params', { maxPerHour: 9, hook: null });
    expect(patched.body).toMatchObject({ maxPerHour: 9 });
    expect(patched.body.hook).toBeUndefined();
    expect((await portal.request('DELETE', '/api/v1/alert-rules/hooks.bad-params')).status).toBe(204);
    expect((await portal.request('GET', '/api/v1/alert-rules/hooks.bad-params')).status).toBe(404);
  });

  it('stores a delivery before processing it: one a receive-only replica accepted is processed after a restart', async () => {
    await alertmanager.stop();
    const rule = 'hooks.after-restart';
    await createRule({
      id: rule,
      hook: 'gen',
      match: { alertname: 'Stored' },
      runbook: 'hooks.remediate',
      params: { service: 'stored' },
      targets: { local: true },
      cooldown: '1m',
      maxPerHour: 5,
    });
    await portal.close();

    const receiver = await startPortal(env, { BATON_HOOK_WORKER: 'false' });
    const body = JSON.stringify({ data: { items: [{ labels: { alertname: 'Stored' } }] } });
    expect((await signedPost(receiver, 'gen', body, genericKey)).status).toBe(202);
    await sleep(1500);
    const { rows } = await db.query(`SELECT status, payload FROM hook_deliveries WHERE hook = 'gen' ORDER BY id DESC LIMIT 1`);
    expect(rows[0]).toMatchObject({ status: 'pending', payload: JSON.parse(body) });
    await receiver.close();

    portal = await startPortal(env);
    const run = await waitFor(
      'the stored delivery processed after the restart',
      async () => (await executionsOf('hooks.remediate', rule))[0],
    );
    expect(run).toMatchObject({ actor: 'webhook:gen', params: { service: 'stored' } });
  });

  it('answers 200 deliveries in a row without waiting for their processing, and processes each exactly once across two replicas', async () => {
    const second = await startPortal(env);
    try {
      const latencies: number[] = [];
      const send = async (i: number) => {
        const body = JSON.stringify({ data: { items: [{ labels: { alertname: 'Burst', n: String(i) } }] } });
        const started = performance.now();
        const res = await signedPost(i % 2 ? portal : second, 'gen', body, genericKey);
        latencies.push(performance.now() - started);
        expect(res.status).toBe(202);
      };
      // 200 deliveries back to back (BURST_SENDERS=10 for concurrent senders: then the answer time includes queueing in
      // this one process, which also runs both replicas, their workers and the senders).
      const next = { i: 0 };
      await Promise.all(
        Array.from({ length: Number(process.env.BURST_SENDERS ?? 1) }, async () => {
          while (next.i < 200) await send(next.i++);
        }),
      );
      latencies.sort((a, b) => a - b);
      const p50 = latencies[Math.floor(latencies.length * 0.5)];
      const p99 = latencies[Math.floor(latencies.length * 0.99)];
      process.stdout.write(`hook delivery answer time over 200 deliveries: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms\n`);
      // The figure is printed, not asserted tightly (wall-clock swings 2-3x on a loaded 2-core machine): the bound
      // only catches an answer that waits for the remediation run itself (seconds), i.e. processing in the request.
      expect(p50).toBeLessThan(500);

      await waitFor('every burst delivery processed', async () => {
        const { rows } = await db.query(`SELECT count(*) AS n FROM hook_deliveries WHERE status = 'pending'`);
        return Number(rows[0].n) === 0;
      });
      const { rows } = await db.query(
        `SELECT count(*) AS n, max(attempts) AS most FROM hook_deliveries WHERE payload->'data'->'items'->0->'labels'->>'alertname' = 'Burst'`,
      );
      expect(rows[0]).toEqual({ n: '200', most: 1 });
    } finally {
      await second.close();
    }
  });
});
