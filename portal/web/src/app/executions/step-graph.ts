/** The step graph drawn on the execution page: steps in columns by DAG depth (a step sits right of all it needs). */

export interface GraphStep {
  id: string;
  name?: string;
  needs?: string[];
}

/** Columns of steps: column 0 needs nothing, column n needs something in column n-1. Unknown needs are ignored. */
export function stepLevels<T extends GraphStep>(steps: T[]): T[][] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const depth = new Map<string, number>();
  const depthOf = (step: T, visiting: Set<string>): number => {
    const known = depth.get(step.id);
    if (known !== undefined) return known;
    if (visiting.has(step.id)) return 0; // a cycle cannot load, but never loop on one
    visiting.add(step.id);
    const needs = (step.needs ?? []).map((id) => byId.get(id)).filter((s): s is T => s !== undefined);
    const level = needs.length === 0 ? 0 : 1 + Math.max(...needs.map((s) => depthOf(s, visiting)));
    depth.set(step.id, level);
    return level;
  };
  const levels: T[][] = [];
  for (const step of steps) {
    const level = depthOf(step, new Set());
    (levels[level] ??= []).push(step);
  }
  return levels.filter((l) => l !== undefined);
}
