/**
 * The decisions of pool scaling as plain functions: may this request change the pool, to what size, and does it
 * need an admin's approval; which nodes leave on scale-in; has the pool settled. The service applies them inside
 * the transaction that holds the pool's row lock, so the bound checked here is the bound enforced.
 */
import type { Pool } from '@baton/shared';
import type { ScaleRequester } from './pool.entity';

export interface ScaleRequest {
  by?: number;
  to?: number;
  /** Asked for by an admin to act during the cooldown. */
  isForced?: boolean;
}

export interface PoolSnapshot {
  min: number;
  max: number;
  /** The size the pool has been asked for (all granted actions included). */
  desired: number;
  lastActionAt: Date | null;
  cooldownMs: number;
  operatorLimit: number;
}

export type ScaleDecision =
  | { kind: 'grant'; from: number; to: number }
  | { kind: 'approval'; from: number; to: number }
  /** `status`: the HTTP answer to a person; `isRecorded`: automatic requests are stored as `refused` actions instead. */
  | { kind: 'refuse'; from: number; to: number; status: 403 | 409; message: string; isRecorded: boolean };

export function isAutomatic(requester: ScaleRequester): boolean {
  return requester.type !== 'user';
}

/**
 * What a request does to a pool now. `isApproved` is set when an admin approves a pending action: the bounds are
 * checked again (the pool may have changed meanwhile), the cooldown and the operator limit no longer apply.
 */
export function decideScale(
  pool: PoolSnapshot,
  request: ScaleRequest,
  requester: ScaleRequester,
  now: Date,
  isApproved = false,
): ScaleDecision {
  const from = pool.desired;
  const to = request.to ?? from + (request.by ?? 0);
  const isRecorded = isAutomatic(requester);
  const refuse = (status: 403 | 409, message: string): ScaleDecision => ({ kind: 'refuse', from, to, status, message, isRecorded });
  const isAdmin = requester.type === 'user' && requester.isAdmin;

  if (request.isForced && !isAdmin) return refuse(403, 'only an admin may force a scaling request');
  if (to === from) return refuse(409, `the pool is already at ${from} node(s); nothing to change`);
  if (to < pool.min) return refuse(409, `scaling to ${to} would go below the pool's min of ${pool.min} (desired now ${from})`);
  if (to > pool.max) return refuse(409, `scaling to ${to} would go above the pool's max of ${pool.max} (desired now ${from})`);
  if (isApproved) return { kind: 'grant', from, to };

  const cooldownUntil = cooldownEnd(pool);
  if (cooldownUntil && cooldownUntil > now && !request.isForced) {
    const who = isRecorded ? 'automatic requests are refused' : 'an admin may add "force": true';
    return refuse(409, `the pool is in its cooldown until ${cooldownUntil.toISOString()}; ${who}`);
  }
  const change = Math.abs(to - from);
  if (requester.type === 'user' && !isAdmin && change > pool.operatorLimit) return { kind: 'approval', from, to };
  return { kind: 'grant', from, to };
}

export function cooldownEnd(pool: Pick<PoolSnapshot, 'lastActionAt' | 'cooldownMs'>): Date | null {
  if (!pool.lastActionAt || pool.cooldownMs <= 0) return null;
  return new Date(pool.lastActionAt.getTime() + pool.cooldownMs);
}

export interface Candidate {
  name: string;
  registeredAt: Date;
  isBusy: boolean;
}

/**
 * The nodes to remove: `count` of the candidates, chosen by `pick`. `idle` takes nodes running nothing first (the
 * newest of them), then busy ones only if it must.
 */
export function pickNodes(candidates: Candidate[], count: number, pick: Pool['scaleIn']['pick']): string[] {
  const newestFirst = [...candidates].sort((a, b) => b.registeredAt.getTime() - a.registeredAt.getTime() || b.name.localeCompare(a.name));
  let ordered: Candidate[];
  if (pick === 'oldest') ordered = newestFirst.reverse();
  else if (pick === 'idle') ordered = [...newestFirst.filter((c) => !c.isBusy), ...newestFirst.filter((c) => c.isBusy)];
  else ordered = newestFirst;
  return ordered.slice(0, Math.max(0, count)).map((c) => c.name);
}

/** Whether the live count has reached an action's target, in the action's direction. */
export function isSettled(from: number, to: number, actual: number): boolean {
  return to > from ? actual >= to : actual <= to;
}
