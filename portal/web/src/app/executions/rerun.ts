/**
 * "Run again" and "Retry failed nodes" on the execution page: whether each is offered, why one is disabled (the same
 * rules as `POST /api/v1/executions/{id}/rerun`), and which secret parameters a refused rerun asks for again.
 */
import { isTerminal } from '../core/format';
import { whyCannotRun, type Principal, type RunbookAccess } from '../core/permissions';

export interface RerunButton {
  isShown: boolean;
  /** Why it is disabled, shown beside it; null when it may be pressed. */
  whyDisabled: string | null;
}

export interface RerunChoices {
  runAgain: RerunButton;
  retryFailedNodes: RerunButton;
}

interface ExecutionFacts {
  status: string;
  runbookVersion: string;
  nodes: { status: string }[];
}

/** Offered once the run ended; retrying failed nodes only when some node did not succeed. */
export function rerunChoices(
  me: Principal | null,
  execution: ExecutionFacts,
  runbook: (RunbookAccess & { version: string }) | null,
): RerunChoices {
  const hasEnded = isTerminal(execution.status);
  const hasFailedNodes = execution.nodes.some((n) => n.status !== 'succeeded');
  const why = whyNot(me, execution, runbook);
  return {
    runAgain: { isShown: hasEnded, whyDisabled: why },
    retryFailedNodes: { isShown: hasEnded && hasFailedNodes, whyDisabled: why },
  };
}

function whyNot(me: Principal | null, execution: ExecutionFacts, runbook: (RunbookAccess & { version: string }) | null): string | null {
  if (!me) return 'Sign in again to run it.';
  if (!runbook) return 'The runbook is no longer in the catalog.';
  const cannotRun = whyCannotRun(me, runbook);
  if (cannotRun) return cannotRun;
  if (runbook.version !== execution.runbookVersion) return 'The runbook changed since this run; start it anew from the runbook page.';
  return null;
}

/** The parameters a 409 asks to be given again (`details: [{ field: 'params.password' }]`). */
export function paramsToGiveAgain(details: unknown): string[] {
  if (!Array.isArray(details)) return [];
  return details
    .map((d: unknown) => (typeof d === 'object' && d !== null ? (d as { field?: unknown }).field : undefined))
    .filter((field): field is string => typeof field === 'string' && field.startsWith('params.'))
    .map((field) => field.slice('params.'.length));
}
