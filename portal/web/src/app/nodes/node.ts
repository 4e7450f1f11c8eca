/** A node as `GET /nodes` lists it, and the pure matching of a runbook's targets and a label filter against nodes. */
import type { Targets } from '@baton/shared';

export interface NodeSummary {
  name: string;
  executor: string;
  status: string;
  labels: Record<string, string>;
  lastSeen: string | null;
  hostname?: string | null;
  version?: string | null;
}

/** The portal's own host, the node of `targets: { local: true }`. */
export const LOCAL_NODE = 'local';

/** The nodes a runbook's targets select, as the dispatcher picks them: local, by name, or by every label. */
export function matchTargets<T extends Pick<NodeSummary, 'name' | 'labels'>>(targets: Targets | undefined, nodes: T[]): T[] {
  if (!targets || targets.local) return nodes.filter((n) => n.name === LOCAL_NODE);
  if (targets.names) return nodes.filter((n) => targets.names!.includes(n.name));
  if (targets.labels) return nodes.filter((n) => hasLabels(n.labels, targets.labels!));
  return [];
}

/** What the targets ask for, in words: `local`, `names: a, b`, `labels: role=web`. */
export function describeTargets(targets: Targets | undefined): string {
  if (!targets || targets.local) return 'the portal host (local)';
  if (targets.names) return `nodes named ${targets.names.join(', ')}`;
  if (targets.labels) return `nodes labelled ${formatLabels(targets.labels)}`;
  return 'no nodes';
}

export function formatLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

/** A filter typed as `role=web, env=prod` (or a bare `role` for "has the label"); null when it cannot be read. */
export function parseLabelFilter(text: string): Record<string, string | null> | null {
  const filter: Record<string, string | null> = {};
  for (const part of text.split(/[,\s]+/).filter((p) => p !== '')) {
    const [key, ...rest] = part.split('=');
    if (key === '') return null;
    filter[key] = rest.length === 0 ? null : rest.join('=');
  }
  return filter;
}

/** Whether the node carries every label of the filter (a null value: any value). */
export function hasLabels(labels: Record<string, string>, filter: Record<string, string | null>): boolean {
  return Object.entries(filter).every(([key, value]) => Object.hasOwn(labels, key) && (value === null || labels[key] === value));
}
