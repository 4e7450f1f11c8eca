import { decodeCursor, encodeCursor, filterCondition } from './audit-query';

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
