import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AuditService } from './audit.service';

/** A DataSource whose queries take a little while, recording what was sent. */
function fakeDatabase(failWith?: Error) {
  const inserts: unknown[][][] = [];
  const db = {
    query: jest.fn(async (_sql: string, params: unknown[][]) => {
      inserts.push(params);
      await new Promise((r) => setTimeout(r, 5));
      if (failWith) throw failWith;
      return [];
    }),
  };
  return { db: db as unknown as DataSource, inserts };
}

const event = (i: number) => ({ actor: { type: 'system' as const, name: 'test' }, action: 'test.event', details: { i } });

describe('AuditService.record', () => {
  it('writes the first event at once and groups those that arrive meanwhile into one INSERT', async () => {
    const { db, inserts } = fakeDatabase();
    const audit = new AuditService(db);
    await Promise.all(Array.from({ length: 100 }, (_, i) => audit.record(event(i))));
    expect(inserts.map((params) => params[0].length)).toEqual([1, 99]);
    const details = inserts.flatMap((params) => params[5] as string[]).map((d) => JSON.parse(d).i);
    expect(details).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('rejects every caller of a batch that could not be stored', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { db } = fakeDatabase(new Error('database down'));
    const audit = new AuditService(db);
    const results = await Promise.allSettled([audit.record(event(1)), audit.record(event(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('applies registered redactors to the details, until removed', async () => {
    const { db, inserts } = fakeDatabase();
    const audit = new AuditService(db);
    const remove = audit.addRedactor((text) => text.replaceAll('s3cr3t', '***'));
    await audit.record({ ...event(1), details: { env: 'TOKEN=s3cr3t' } });
    remove();
    await audit.record({ ...event(2), details: { env: 'TOKEN=s3cr3t' } });
    expect(inserts.map((params) => (params[5] as string[])[0])).toEqual(['{"env":"TOKEN=***"}', '{"env":"TOKEN=s3cr3t"}']);
  });

  it('summarizes oversized details and strips NUL characters PostgreSQL cannot store', async () => {
    const { db, inserts } = fakeDatabase();
    const audit = new AuditService(db);
    await audit.record({ ...event(1), actor: { type: 'user', name: 'a\0b' }, details: { big: 'x'.repeat(100_000) } });
    await audit.record({ ...event(2), details: { nul: 'a\0b' } });
    expect(JSON.parse((inserts[0][5] as string[])[0])).toMatchObject({ truncated: true });
    expect((inserts[0][2] as string[])[0]).toBe('a\ufffdb');
    expect(JSON.parse((inserts[1][5] as string[])[0])).toEqual({ nul: 'a\ufffdb' });
  });
});
