/**
 * Where a runbook uses stored secrets (`env: { TOKEN: { secret: demo-token } }` and secret parameters backed by
 * a stored secret), and the steps as a node receives them once those references are replaced by values.
 * Pure functions: the portal looks the values up in its store and builds the plan with them.
 */
import type { PlanStep } from '../protocol/messages';
import type { Runbook, Step } from './schema';

export interface SecretUse {
  /** The stored secret's name. */
  secret: string;
  /** Where the runbook names it, e.g. `steps.call.env.TOKEN` or `params.token`, for error messages. */
  where: string;
}

/** Every reference to a stored secret in the runbook, in document order. */
export function secretsUsedBy(runbook: Runbook): SecretUse[] {
  const uses: SecretUse[] = [];
  for (const [name, spec] of Object.entries(runbook.params ?? {})) {
    if (spec.type === 'secret' && spec.secret !== undefined) uses.push({ secret: spec.secret, where: `params.${name}` });
  }
  for (const list of ['steps', 'onFailure'] as const) {
    for (const step of runbook[list] ?? []) {
      for (const [envName, value] of Object.entries(step.env ?? {})) {
        if (typeof value !== 'string') uses.push({ secret: value.secret, where: `${list}.${step.id}.env.${envName}` });
      }
    }
  }
  return uses;
}

/** The steps with every `{ secret: name }` env value replaced by its value; a missing value is a programming error. */
export function resolveStepSecrets(steps: Step[], values: ReadonlyMap<string, string>): PlanStep[] {
  return steps.map(({ env: declared, ...step }) => {
    if (!declared) return step;
    const env: Record<string, string> = {};
    for (const [envName, value] of Object.entries(declared)) {
      if (typeof value === 'string') {
        env[envName] = value;
        continue;
      }
      const resolved = values.get(value.secret);
      if (resolved === undefined) throw new Error(`secret "${value.secret}" of step ${step.id} was not looked up`);
      env[envName] = resolved;
    }
    return { ...step, env };
  });
}
