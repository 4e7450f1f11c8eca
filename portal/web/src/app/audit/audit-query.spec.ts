import { auditQuery, NO_AUDIT_FILTERS } from './audit-query';

describe('audit query', () => {
  it('sends only the filters that are set, trimmed', () => {
    const query = auditQuery({ ...NO_AUDIT_FILTERS, actor: ' alice ', action: 'execution.*' }, { limit: '50' });
    expect(query.toString()).toBe('actor=alice&action=execution.*&limit=50');
  });

  it('sends local times as ISO 8601 instants', () => {
    const query = auditQuery({ ...NO_AUDIT_FILTERS, from: '2026-01-02T03:04' });
    expect(query.get('from')).toBe(new Date('2026-01-02T03:04').toISOString());
    expect(auditQuery({ ...NO_AUDIT_FILTERS, to: 'not a time' }).has('to')).toBe(false);
  });
});
