/**
 * The audit log end to end on a real PostgreSQL: what gets recorded, the database refusing edits, the hash chain
 * catching edits made behind its back, paging and filters, and a 100,000-event export streamed in bounded memory.
 */
import { Client } from 'pg';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AuditService } from '../src/audit/audit.service';
import { ADMIN_PASSWORD, createTestEnv, destroyTestEnv, Portal, sleep, startPortal, TestEnv } from './harness';

jest.setTimeout(120_000);

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

describe('audit log', () => {
  let env: TestEnv;
  let portal: Portal;
  let audit: AuditService;
  let db: Client;

  beforeAll(async () => {
    env = await createTestEnv();
    portal = await startPortal(env);
    audit = portal.app.get(AuditService);
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await portal?.close();
    if (env) await destroyTestEnv(env);
  });

  /** Polls the list API until an event matching the query exists (refusals are recorded as their response ends). */
  async function findEvents(query: string, atLeast = 1): Promise<any[]> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const res = await portal.request('GET', `/api/v1/audit?${query}`);
      expect(res.status).toBe(200);
      if (res.body.items.length >= atLeast || Date.now() > deadline) return res.body.items;
      await sleep(50);
    }
  }

  it('records a successful and a failed login, with the attempted user and the source address', async () => {
    const bad = await fetch(`${portal.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'wrong-password' }),
    });
    expect(bad.status).toBe(401);
    await portal.login('admin', ADMIN_PASSWORD);

    const logins = await findEvents('action=auth.login&target=user:admin', 3);
    const failed = logins.find((e) => e.details.status === 401);
    expect(failed).toMatchObject({ actor: { type: 'anonymous', name: 'admin' }, source: '127.0.0.1' });
    expect(failed.details.body).toEqual({ username: 'admin', password: '***' });
    expect(logins.find((e) => e.details.status === 200)).toMatchObject({ actor: { type: 'user', name: 'admin' } });
    expect(JSON.stringify(logins)).not.toContain(ADMIN_PASSWORD);
  });

  it('records the run request and the execution start and end with runbook version, params, targets and outcome', async () => {
    const id = await portal.run('demo.hello', { params: { name: 'Auditor' } });
    const execution = await portal.waitForEnd(id);

    const [request] = await findEvents(`target=${encodeURIComponent('runbook:demo.hello')}`);
    expect(request).toMatchObject({
      action: 'execution.request',
      actor: { type: 'user', name: 'admin' },
      details: { status: 201, params: { id: 'demo.hello' } },
    });
    // The body may carry secret parameters: the parameters are recorded, redacted, by execution.started instead.
    expect(request.details.body).toBeUndefined();
    const events = await findEvents(`target=execution:${id}&order=asc`, 2);
    expect(events.map((e) => e.action)).toEqual(['execution.started', 'execution.finished']);
    expect(events[0]).toMatchObject({
      actor: { type: 'user', name: 'admin' },
      details: {
        runbook: 'demo.hello',
        runbookVersion: execution.runbookVersion,
        params: { name: 'Auditor' },
        targets: execution.targets,
        trigger: { type: 'user', user: 'admin' },
      },
    });
    expect(events[1].details).toMatchObject({ status: 'succeeded', runbook: 'demo.hello' });
  });

  it('records a failed change with its status and the reason', async () => {
    const res = await portal.request('POST', '/api/v1/runbooks/demo.hello/executions', { params: { name: 42 } });
    expect(res.status).toBe(400);
    const events = await findEvents(`target=${encodeURIComponent('runbook:demo.hello')}`);
    expect(events[0].details).toMatchObject({ status: 400, error: expect.stringContaining('name') });
  });

  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    await audit.record({ actor: { type: 'system', name: 'test' }, action: 'test.append-only' });
    await expect(db.query(`UPDATE audit_events SET actor = 'mallory'`)).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
    await expect(db.query(`TRUNCATE audit_events`)).rejects.toThrow(/append-only/);
    expect((await portal.request('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
  });

  it('chains 200 concurrent writers gap-free', async () => {
    const before = Number((await db.query(`SELECT count(*) FROM audit_events`)).rows[0].count);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        audit.record({ actor: { type: 'system', name: 'writer' }, action: 'test.concurrent', target: `item:${i}`, details: { i } }),
      ),
    );
    const { rows } = await db.query(`SELECT min(seq)::int AS min, max(seq)::int AS max, count(*)::int AS count FROM audit_events`);
    expect(rows[0]).toEqual({ min: 1, max: before + 200, count: before + 200 });
    const verify = await portal.request('GET', '/api/v1/audit/verify');
    expect(verify.body).toMatchObject({ ok: true, checked: before + 200, head: { seq: before + 200 } });
    expect(verify.body.firstBadSeq).toBeUndefined();
  });

  it('pages newest first with an opaque cursor and filters by actor, action prefix, target and time', async () => {
    const startedAt = new Date();
    for (let i = 0; i < 25; i++) {
      await audit.record({ actor: { type: 'user', name: 'pager' }, action: `page.${i % 2 ? 'odd' : 'even'}`, target: `page:${i}` });
    }
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await portal.request('GET', `/api/v1/audit?actor=pager&limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((e: any) => e.seq));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(25);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);

    expect(await findEvents('action=page.odd&limit=1000')).toHaveLength(12);
    expect(await findEvents('action=page.*&limit=1000')).toHaveLength(25);
    expect(await findEvents('action=pag*&actor=pager&limit=1000')).toHaveLength(25);
    expect((await findEvents('target=page:7')).map((e) => e.action)).toEqual(['page.odd']);
    const from = encodeURIComponent(startedAt.toISOString());
    expect(await findEvents(`actor=pager&from=${from}&limit=1000`)).toHaveLength(25);
    const to = encodeURIComponent(startedAt.toISOString());
    expect((await portal.request('GET', `/api/v1/audit?actor=pager&to=${to}`)).body.items).toHaveLength(0);
    const asc = await portal.request('GET', '/api/v1/audit?actor=pager&order=asc&limit=1');
    expect(asc.body.items[0].target).toBe('page:0');
  });

  it('answers 400 naming the field for bad filters and cursors', async () => {
    const cases: [string, RegExp][] = [
      ['limit=0', /limit/],
      ['limit=1001', /limit/],
      ['from=yesterday', /from/],
      ['cursor=bm9wZQ', /cursor/],
      ['action=a*b', /action/],
      ['colour=red', /colour/],
    ];
    for (const [query, field] of cases) {
      const res = await portal.request('GET', `/api/v1/audit?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body.message).toMatch(field);
    }
    expect((await portal.request('GET', '/api/v1/audit/export?format=xml')).status).toBe(400);
  });

  it('exports CSV with a header row and quoted fields, as an attachment', async () => {
    await audit.record({ actor: { type: 'user', name: 'csv, "quoted"' }, action: 'csv.test', details: { note: 'a,b\nc' } });
    const res = await fetch(`${portal.url}/api/v1/audit/export?format=csv&action=csv.test`, {
      headers: { authorization: `Bearer ${portal.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="baton-audit-.*\.csv"$/);
    const text = await res.text();
    const [header, row] = text.split('\r\n');
    expect(header).toBe('seq,at,actor_type,actor,action,target,details,source,prev_hash,hash');
    expect(row).toContain(',user,"csv, ""quoted""",csv.test,,"{""note"": ""a,b\\nc""}",,');
  });

  it('streams an export of 100,000 events in bounded memory', async () => {
    const padding = 'x'.repeat(400);
    await db.query(
      `INSERT INTO audit_events (actor_type, actor, action, target, details, source)
       SELECT 'system', 'loader', 'bulk.load', 'item:' || i, jsonb_build_object('i', i, 'padding', $1::text), '10.0.0.1'
         FROM generate_series(1, 100000) AS i`,
      [padding],
    );
    // Live heap (after a full collection), sampled while the export runs: garbage does not count, retention does.
    // Once a second: a full collection of a Jest worker that has run other files takes long enough to starve the export.
    const liveHeap = () => {
      collectGarbage();
      return process.memoryUsage().heapUsed;
    };
    const baseline = liveHeap();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, liveHeap())), 1000);
    const started = performance.now();
    const res = await fetch(`${portal.url}/api/v1/audit/export?format=jsonl&action=bulk.load`, {
      headers: { authorization: `Bearer ${portal.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    let lines = 0;
    let bytes = 0;
    let tail = '';
    let first: any;
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      const text = tail + decoder.decode(chunk, { stream: true });
      const parts = text.split('\n');
      tail = parts.pop()!;
      if (!first && parts.length) first = JSON.parse(parts[0]);
      lines += parts.length;
    }
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    expect(tail).toBe('');
    expect(lines).toBe(100_000);
    expect(first).toMatchObject({ actorType: 'system', actor: 'loader', action: 'bulk.load', details: { i: 1, padding } });
    // About 74 MB went out; the portal and the client (both in this process) never held more than a batch or two.
    expect(bytes).toBeGreaterThan(50_000_000);
    expect(peak - baseline).toBeLessThan(16_000_000);
    console.log(
      `export: ${lines} events, ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s, heap +${((peak - baseline) / 1e6).toFixed(1)} MB`,
    );
  });

  describe('tampering behind the database triggers (as a superuser)', () => {
    async function behindTriggers(sql: string, params: unknown[] = []): Promise<void> {
      await db.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`);
      try {
        await db.query(sql, params);
      } finally {
        await db.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`);
      }
    }

    it('finds an edited event', async () => {
      const { rows } = await db.query(
        `SELECT seq::int, details::text FROM audit_events WHERE action = 'test.concurrent' ORDER BY seq LIMIT 1`,
      );
      const { seq, details } = rows[0];
      await behindTriggers(`UPDATE audit_events SET details = details || '{"i": -1}' WHERE seq = $1`, [seq]);
      const verify = await portal.request('GET', '/api/v1/audit/verify');
      expect(verify.body).toMatchObject({ ok: false, firstBadSeq: seq, reason: 'hash mismatch' });
      expect(verify.body.checked).toBeGreaterThan(100_000);

      await behindTriggers(`UPDATE audit_events SET details = $2::jsonb WHERE seq = $1`, [seq, details]);
      expect((await portal.request('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
    });

    it('finds a deleted event', async () => {
      const { rows } = await db.query(`SELECT seq::int FROM audit_events WHERE action = 'page.even' ORDER BY seq LIMIT 1`);
      await behindTriggers(`DELETE FROM audit_events WHERE seq = $1`, [rows[0].seq]);
      const verify = await portal.request('GET', '/api/v1/audit/verify');
      expect(verify.body).toMatchObject({ ok: false, firstBadSeq: rows[0].seq, reason: 'missing' });
    });
  });
});
