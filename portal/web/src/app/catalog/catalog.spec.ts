import { allTags, filterCatalog, groupByNamespace, type CatalogEntry } from './catalog';

const runbook = (id: string, title: string, tags: string[] = [], description = ''): CatalogEntry => ({
  id,
  namespace: id.split('.')[0],
  title,
  tags,
  description,
});

const RUNBOOKS = [
  runbook('web.restart-nginx', 'Restart nginx', ['web', 'restart'], 'Drain and restart'),
  runbook('demo.hello', 'Say hello', ['demo']),
  runbook('db.vacuum', 'Vacuum tables', ['db', 'maintenance']),
  runbook('demo.admin-only', 'Admin-only check', ['demo']),
];

describe('catalog', () => {
  it('groups runbooks by namespace, namespaces and titles in order', () => {
    const groups = groupByNamespace(RUNBOOKS);
    expect(groups.map((g) => g.namespace)).toEqual(['db', 'demo', 'web']);
    expect(groups[1].runbooks.map((r) => r.title)).toEqual(['Admin-only check', 'Say hello']);
  });

  it('finds runbooks by any word of id, title, description or tag, case-insensitively', () => {
    expect(filterCatalog(RUNBOOKS, 'NGINX', new Set()).map((r) => r.id)).toEqual(['web.restart-nginx']);
    expect(filterCatalog(RUNBOOKS, 'drain restart', new Set()).map((r) => r.id)).toEqual(['web.restart-nginx']);
    expect(filterCatalog(RUNBOOKS, 'maintenance', new Set()).map((r) => r.id)).toEqual(['db.vacuum']);
    expect(filterCatalog(RUNBOOKS, '  ', new Set())).toHaveLength(4);
  });

  it('keeps only runbooks carrying every selected tag', () => {
    expect(filterCatalog(RUNBOOKS, '', new Set(['demo'])).map((r) => r.id)).toEqual(['demo.hello', 'demo.admin-only']);
    expect(filterCatalog(RUNBOOKS, '', new Set(['demo', 'web']))).toEqual([]);
    expect(filterCatalog(RUNBOOKS, 'hello', new Set(['demo'])).map((r) => r.id)).toEqual(['demo.hello']);
  });

  it('lists every tag once, sorted', () => {
    expect(allTags(RUNBOOKS)).toEqual(['db', 'demo', 'maintenance', 'restart', 'web']);
  });
});
