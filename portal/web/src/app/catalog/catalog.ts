/** The catalog's pure logic: filter runbooks by a search text and tags, group them by namespace. */

export interface CatalogEntry {
  id: string;
  namespace: string;
  title: string;
  description?: string;
  tags: string[];
}

export interface NamespaceGroup<T extends CatalogEntry> {
  namespace: string;
  runbooks: T[];
}

/** Every tag used by any runbook, sorted. */
export function allTags(runbooks: CatalogEntry[]): string[] {
  return [...new Set(runbooks.flatMap((r) => r.tags))].sort();
}

/** Runbooks whose id, title, description or tags contain every word of the search, and that carry every selected tag. */
export function filterCatalog<T extends CatalogEntry>(runbooks: T[], search: string, tags: ReadonlySet<string>): T[] {
  const words = search
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  return runbooks.filter((runbook) => {
    if ([...tags].some((tag) => !runbook.tags.includes(tag))) return false;
    const haystack = [runbook.id, runbook.title, runbook.description ?? '', ...runbook.tags].join(' ').toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}

/** Namespaces in alphabetical order, runbooks within by title. */
export function groupByNamespace<T extends CatalogEntry>(runbooks: T[]): NamespaceGroup<T>[] {
  const groups = new Map<string, T[]>();
  for (const runbook of runbooks) groups.set(runbook.namespace, [...(groups.get(runbook.namespace) ?? []), runbook]);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([namespace, list]) => ({ namespace, runbooks: [...list].sort((a, b) => a.title.localeCompare(b.title)) }));
}
