/**
 * The step graph of a runbook: steps point at the steps they wait for through `needs`.
 * Pure functions, shared by the loader (which rejects cycles) and the executor (which plans the order).
 */

/** The only parts of a step the graph cares about, so callers can pass steps of any shape. */
export interface DagStep {
  id: string;
  needs?: string[];
}

/**
 * A cycle in `needs`, as the ids along it with the first repeated at the end
 * (`['a', 'b', 'a']` means a needs b and b needs a), or null when the graph has none.
 * Needs naming unknown steps are ignored here: the loader reports them separately, with their own message.
 */
export function findCycle(steps: DagStep[]): string[] | null {
  // Duplicate ids are a load error of their own; merging their needs keeps any cycle through them visible.
  const needsById = new Map<string, string[]>();
  for (const step of steps) needsById.set(step.id, [...(needsById.get(step.id) ?? []), ...(step.needs ?? [])]);
  const finished = new Set<string>();
  // The path of the depth-first walk; a need that points back into it closes a cycle.
  const path: string[] = [];

  const visit = (id: string): string[] | null => {
    const onPathAt = path.indexOf(id);
    if (onPathAt >= 0) return [...path.slice(onPathAt), id];
    if (finished.has(id) || !needsById.has(id)) return null;
    path.push(id);
    for (const need of needsById.get(id) ?? []) {
      const cycle = visit(need);
      if (cycle) return cycle;
    }
    path.pop();
    finished.add(id);
    return null;
  };

  // Walking in file order makes the reported cycle start at the step the author wrote first.
  for (const step of steps) {
    const cycle = visit(step.id);
    if (cycle) return cycle;
  }
  return null;
}

/**
 * Step ids in an order where every step comes after the steps it needs.
 * Stable: among steps that are ready at the same time, the one written first in the file comes first,
 * so a runbook without `needs` runs in file order.
 * Throws on an unknown need or a cycle; loaded runbooks never have either.
 */
export function topologicalOrder(steps: DagStep[]): string[] {
  const known = new Set(steps.map((step) => step.id));
  for (const step of steps) {
    for (const need of step.needs ?? []) {
      if (!known.has(need)) throw new Error(`step "${step.id}" needs unknown step "${need}"`);
    }
  }
  const cycle = findCycle(steps);
  if (cycle) throw new Error(`cycle in needs: ${cycle.join(' -> ')}`);

  const ordered: string[] = [];
  const placed = new Set<string>();
  const isReady = (step: DagStep) => !placed.has(step.id) && (step.needs ?? []).every((need) => placed.has(need));
  // Runbooks have a handful of steps, so rescanning from the top each round is cheap and keeps file order.
  while (ordered.length < steps.length) {
    const next = steps.find(isReady);
    if (!next) break; // unreachable after the cycle check; guards against an endless loop on duplicate ids
    ordered.push(next.id);
    placed.add(next.id);
  }
  return ordered;
}
