import { csvField, decodeCursor, encodeCursor, filterCondition, toCsvLine, toJsonLine, type AuditRow } from './audit-query';

const row: AuditRow = {
  seq: '42',
  at: '2026-01-02T03:04:05.123456Z',
  actor_type: 'user',
  actor: 'alice',
  action: 'runbook.update',
  target: 'runbook:web.x',
  details: '{"note": "a, \\"b\\""}',
  source: null,
  prev_hash: 'p'.repeat(64),
  hash: 'h'.repeat(64),
};

describe('audit filters', () => {
  it('binds every value as a parameter', () => {
    const params: unknown[] = [];
    const sql = filterCondition({ actor: 'alice', action: 'user.create', target: 't', from: new Date(0), to: new Date(1000) }, params);
    expect(sql).toBe('actor = $1 AND action = $2 AND target = $3 AND at >= $4 AND at < $5');
    expect(params).toEqual(['alice', 'user.create', 't', '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:01.000Z']);
  });

  it('turns a trailing * into a prefix match with LIKE wildcards escaped', () => {
    const params: unknown[] = [];
    expect(filterCondition({ action: 'exec_ution.*' }, params)).toBe('action LIKE $1');
    expect(params).toEqual(['exec\\_ution.%']);
  });

  it('matches everything without filters', () => {
    expect(filterCondition({}, [])).toBe('TRUE');
  });
});

describe('paging cursor', () => {
  it('round-trips a seq and refuses anything else', () => {
    expect(decodeCursor(encodeCursor(123))).toBe(123);
    expect(decodeCursor('bm9wZQ')).toBeUndefined();
    expect(decodeCursor(Buffer.from('seq:-1').toString('base64url'))).toBeUndefined();
  });
});

describe('export lines', () => {
  it('writes one parseable JSON object per line, details as stored', () => {
    const line = toJsonLine(row);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      seq: 42,
      at: row.at,
      actorType: 'user',
      actor: 'alice',
      action: 'runbook.update',
      target: 'runbook:web.x',
      details: { note: 'a, "b"' },
      source: null,
      prevHash: row.prev_hash,
      hash: row.hash,
    });
  });

  it('quotes CSV fields holding commas, quotes or line breaks, and leaves NULL empty', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(toCsvLine(row)).toBe(
      `42,${row.at},user,alice,runbook.update,runbook:web.x,"{""note"": ""a, \\""b\\""""}",,${row.prev_hash},${row.hash}\r\n`,
    );
  });
});
