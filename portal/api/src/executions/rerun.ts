/**
 * What "Run again" and "Retry failed nodes" start: the first execution's parameters and targets, or only the nodes
 * that did not succeed, refused with a reason when that cannot be honest (a secret parameter was never stored, every
 * node succeeded, the run is still going). Pure: the service reads the records and starts the run.
 */
import { MASK, type ParamValue, type Targets } from '@baton/shared';
import { isTerminalExecution, type ExecutionStatus } from './state-machine';

export interface RerunRequest {
  onlyFailedNodes: boolean;
  /** Parameters given again (secret ones must be); `null` leaves one to the runbook's default or stored secret. */
  params?: Record<string, unknown>;
}

export interface RerunSource {
  status: ExecutionStatus;
  params: Record<string, ParamValue>;
  targets: Targets;
  nodes: { node: string; status: string }[];
}

export type RerunPlan =
  | { isPossible: true; params: Record<string, unknown>; targets: Targets }
  | { isPossible: false; message: string; details?: { field: string; message: string }[] };

export function rerunPlan(source: RerunSource, request: RerunRequest): RerunPlan {
  const given = request.params ?? {};
  const params: Record<string, unknown> = { ...source.params, ...given };
  // Stored as *** (a secret parameter, or a secret value typed into another one): running with *** would be a lie.
  const masked = Object.keys(source.params).filter((name) => !Object.hasOwn(given, name) && isMasked(source.params[name]));
  if (masked.length > 0) {
    return {
      isPossible: false,
      message:
        `parameter${masked.length > 1 ? 's' : ''} ${masked.join(', ')} held secret values, which are never stored: give ` +
        `${masked.length > 1 ? 'them' : 'it'} again in "params" (null uses the runbook's stored secret, where it names one)`,
      details: masked.map((name) => ({ field: `params.${name}`, message: 'a secret value is never stored; give it again' })),
    };
  }
  if (!request.onlyFailedNodes) return { isPossible: true, params, targets: source.targets };
  if (!isTerminalExecution(source.status)) {
    return { isPossible: false, message: `the execution is still ${source.status}: retry its failed nodes once it has ended` };
  }
  const failed = source.nodes.filter((n) => n.status !== 'succeeded').map((n) => n.node);
  if (failed.length === 0) return { isPossible: false, message: 'every node succeeded: there is no failed node to retry' };
  const { concurrency, maxFailures } = source.targets;
  return {
    isPossible: true,
    params,
    targets: {
      names: failed,
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(maxFailures !== undefined ? { maxFailures } : {}),
    },
  };
}

function isMasked(value: ParamValue): boolean {
  return typeof value === 'string' && value.includes(MASK);
}
