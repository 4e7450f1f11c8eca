/**
 * Request bodies the portal refuses, per receiver kind (the API, the Alertmanager hook, the generic hook), against a
 * real portal: too large is 413 naming the limit, an unsupported content type or charset 415, malformed JSON 400
 * naming the position, each in the API's JSON error shape and with nothing stored. The hooks take what real senders
 * send: an Alertmanager group of hundreds of alerts, megabytes of it.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestEnv, destroyTestEnv, Portal, sleep, startPortal, type TestEnv } from './harness';

jest.setTimeout(120_000);

interface Answer {
  status: number;
  body: any;
}

type Kind = 'API' | 'Alertmanager hook' | 'generic hook';

/** A real-size Alertmanager group (payload version 4): `count` alerts with the labels and annotations rules carry. */
function alertmanagerGroup(count: number) {
  const alerts = Array.from({ length: count }, (_, i) => ({
    status: 'firing',
    labels: {
      alertname: 'DiskFillingUp',
      severity: 'warning',
      instance: `web-${i}.prod.example.com:9100`,
      job: 'node',
      device: '/dev/nvme0n1p1',
      fstype: 'ext4',
      mountpoint: '/var/lib/docker',
      team: 'platform',
      region: 'eu-west-1',
      cluster: 'prod-eu-1',
    },
    annotations: {
      summary: `Filesystem on web-${i} is predicted to fill up within 4 hours`,
      description: `Filesystem /var/lib/docker on web-${i} has ${(i % 17) + 3}% left and is filling up fast. `.repeat(30),
      runbook_url: 'https://runbooks.example.com/node/NodeFilesystemSpaceFillingUp',
    },
    startsAt: new Date(Date.now() - i * 1000).toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: `https://prometheus.example.com/graph?g0.expr=${encodeURIComponent('predict_linear(node_filesystem_avail_bytes[6h], 4*3600) < 0')}`,
    fingerprint: i.toString(16).padStart(16, '0'),
  }));
  return {
    version: '4',
    groupKey: '{}:{alertname="DiskFillingUp"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'baton',
    groupLabels: { alertname: 'DiskFillingUp' },
    commonLabels: { alertname: 'DiskFillingUp', job: 'node' },
    commonAnnotations: {},
    externalURL: 'https://alertmanager.example.com',
    alerts,
  };
}

describe('request bodies', () => {
  let env: TestEnv;
  let portal: Portal;
  let db: Client;
  let alertmanagerToken = '';
  let genericKey = '';

  const send = async (kind: Kind, body: string, contentType = 'application/json'): Promise<Answer> => {
    const headers: Record<string, string> = { 'content-type': contentType };
    let path = '/api/v1/runbooks/hooks.remediate/executions';
    if (kind === 'API') headers.authorization = `Bearer ${portal.token}`;
    if (kind === 'Alertmanager hook') {
      path = '/api/v1/hooks/alertmanager/am';
      headers.authorization = `Bearer ${alertmanagerToken}`;
    }
    if (kind === 'generic hook') {
      path = '/api/v1/hooks/generic/gen';
      headers['x-baton-signature'] = `sha256=${createHmac('sha256', genericKey).update(body).digest('hex')}`;
    }
    const res = await fetch(`${portal.url}${path}`, { method: 'POST', headers, body });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text) };
  };
  const storedRows = async () => {
    const { rows } = await db.query(
      `SELECT (SELECT count(*) FROM executions) AS executions, (SELECT count(*) FROM hook_deliveries) AS deliveries`,
    );
    return rows[0];
  };
  const expectApiError = (answer: Answer, status: number, message: RegExp) => {
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual(
      expect.objectContaining({ statusCode: status, error: expect.any(String), message: expect.stringMatching(message) }),
    );
  };

  beforeAll(async () => {
    env = await createTestEnv(join(__dirname, 'runbooks-hooks'));
    portal = await startPortal(env);
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    const am = await portal.request('POST', '/api/v1/hooks', { name: 'am', type: 'alertmanager' });
    expect(am.status).toBe(201);
    alertmanagerToken = am.body.token;
    const generic = await portal.request('POST', '/api/v1/hooks', { name: 'gen', type: 'generic' });
    expect(generic.status).toBe(201);
    genericKey = generic.body.token;
  });

  afterAll(async () => {
    await db?.end();
    await portal?.close();
    if (env) await destroyTestEnv(env);
  });

  describe.each<[Kind, string, number]>([
    ['API', '100kb', 100 * 1024],
    ['Alertmanager hook', '5mb', 5 * 1024 * 1024],
    ['generic hook', '5mb', 5 * 1024 * 1024],
  ])('%s', (kind, limit, limitBytes) => {
    it(`answers 413 naming the limit (${limit}) to a body over it, and stores nothing`, async () => {
      const before = await storedRows();
      const body = JSON.stringify({ params: { service: 'nginx', summary: 'x'.repeat(limitBytes) } });
      const answer = await send(kind, body);
      expectApiError(answer, 413, new RegExp(`larger than ${limit}, the limit for this route`));
      expect(answer.body.details).toMatchObject({ limitBytes });
      expect(await storedRows()).toEqual(before);
    });

    it('answers 415 to a body that is not JSON, or JSON in a charset other than UTF', async () => {
      const before = await storedRows();
      expectApiError(
        await send(kind, 'service=nginx', 'application/x-www-form-urlencoded'),
        415,
        /unsupported content type .*application\/json/,
      );
      expectApiError(await send(kind, '{"alerts": []}', 'text/plain'), 415, /unsupported content type "text\/plain"/);
      expectApiError(await send(kind, '{"alerts": []}', 'application/json; charset=latin1'), 415, /unsupported charset "LATIN1"/);
      expect(await storedRows()).toEqual(before);
    });

    it('answers 400 naming the position to malformed JSON', async () => {
      const before = await storedRows();
      const answer = await send(kind, '{\n  "alerts": [\n    {"labels": {"a": "b"},}\n  ]\n}');
      expectApiError(answer, 400, /^malformed JSON at position 42 \(line 3, column 27\): expected a property name in double quotes$/);
      expect(answer.body.details).toEqual({ position: 42, line: 3, column: 27 });
      expect(await storedRows()).toEqual(before);
    });
  });

  it('accepts a real-size Alertmanager group of hundreds of alerts and stores it whole', async () => {
    const group = alertmanagerGroup(400);
    const body = JSON.stringify(group);
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const answer = await send('Alertmanager hook', body);
    expect(answer.status).toBe(202);
    const { rows } = await db.query(`SELECT jsonb_array_length(payload->'alerts') AS alerts FROM hook_deliveries WHERE id = $1`, [
      answer.body.delivery,
    ]);
    expect(rows[0].alerts).toBe(400);
  });

  it('accepts a multi-megabyte signed body on a generic hook', async () => {
    const body = JSON.stringify({ alerts: alertmanagerGroup(1000).alerts, note: 'y'.repeat(512 * 1024) });
    expect(body.length).toBeGreaterThan(3 * 1024 * 1024);
    const answer = await send('generic hook', body);
    expect(answer.status).toBe(202);
  });

  it('refuses an oversized body from its Content-Length alone, without reading it', async () => {
    const claimedBytes = 10 * 1024 * 1024 * 1024;
    const started = Date.now();
    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = httpRequest(
        `${portal.url}/api/v1/hooks/alertmanager/am`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(claimedBytes) } },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          // The answer comes before the body; the rest of the upload is not wanted.
          res.on('end', () => req.destroy());
        },
      );
      req.on('error', reject);
      req.write('{"alerts": [');
    });
    expectApiError(answer, 413, /larger than 5mb/);
    expect(Date.now() - started).toBeLessThan(5000);
    await sleep(50);
    expect((await fetch(`${portal.url}/health/ready`)).status).toBe(200);
  });

  it('answers 413 to a chunked body (no Content-Length) once the bytes read pass the limit', async () => {
    const chunk = new TextEncoder().encode(`"${'z'.repeat(16 * 1024)}",`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"params": {"list": ['));
        sent++;
        if (sent > 20) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${portal.url}/api/v1/runbooks/hooks.remediate/executions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${portal.token}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expectApiError({ status: res.status, body: await res.json() }, 413, /larger than 100kb, the limit for this route/);
  });

  it('ignores a JSON body on a route that takes none', async () => {
    const token = await portal.request('POST', '/api/v1/auth/tokens', { name: 'short-lived' });
    expect(token.status).toBe(201);
    const res = await fetch(`${portal.url}/api/v1/auth/tokens/${token.body.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${portal.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'not read by this route' }),
    });
    expect(res.status).toBe(200);
  });
});
