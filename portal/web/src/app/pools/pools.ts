/**
 * Pools and their scaling actions as the API answers them (`GET /api/v1/pools`, `GET /api/v1/pools/{id}/actions`),
 * and the pure pieces the Pools page shows: size, bounds and cooldown in words, an action's requester, change, state
 * and verification, and the scale form checked with the API's rules before anything is sent.
 */
import type { Pool } from '@baton/shared';
import { formatTime } from '../core/format';

/** `GET /api/v1/pools` and `GET /api/v1/pools/{id}`. */
export interface PoolView extends Omit<Pool, 'apiVersion' | 'kind'> {
  /** The size the provider was last asked for; null before the first action (the live count is then the start). */
  desired: number | null;
  /** Live nodes matching the selector now, and their names. */
  actual: number;
  nodes: string[];
  lastActionAt: string | null;
  /** Until when automatic requests are refused (and people's, unless an admin forces); null when not cooling down. */
  cooldownUntil: string | null;
  sourceFile: string | null;
  updatedAt: string;
}

export const POOL_ACTION_STATUSES = ['pending_approval', 'running', 'settling', 'succeeded', 'failed', 'rejected', 'refused'] as const;
export type PoolActionStatus = (typeof POOL_ACTION_STATUSES)[number];

export type ScaleRequester =
  | { type: 'user'; user: string; isAdmin: boolean; token?: string }
  | { type: 'alert'; rule: string; hook: string; fingerprint: string }
  | { type: 'job'; job: string; fireTime?: string };

/** What the verification saw when the action ended: the live nodes matching the selector. */
export interface Verification {
  target: number;
  actual: number;
  nodes: string[];
  at: string;
}

/** One scaling action, newest first in `GET /api/v1/pools/{id}/actions`. */
export interface PoolAction {
  id: string;
  poolId: string;
  status: PoolActionStatus;
  requestedBy: ScaleRequester;
  request: { by?: number; to?: number };
  reason: string;
  isForced: boolean;
  from: number;
  to: number;
  /** On scale-in, the nodes the provider was asked to remove. */
  nodes: string[];
  executionId: string | null;
  decidedBy: string | null;
  /** Why it failed, was refused or rejected. */
  message: string | null;
  verification: Verification | null;
  createdAt: string;
  startedAt: string | null;
  settleStartedAt: string | null;
  finishedAt: string | null;
}

/** States an action still moves out of by itself: the page looks again while one is shown. */
const MOVING: ReadonlySet<PoolActionStatus> = new Set(['running', 'settling']);

export function isMoving(action: Pick<PoolAction, 'status'>): boolean {
  return MOVING.has(action.status);
}

/** The size a request starts from, as the API decides it: `desired`, or the live count before the first action. */
export function currentSize(pool: Pick<PoolView, 'desired' | 'actual'>): number {
  return pool.desired ?? pool.actual;
}

/** Desired and actual in one phrase: `desired 3, actual 2`, or `actual 2 (no desired size yet)`. */
export function describeSize(pool: Pick<PoolView, 'desired' | 'actual'>): string {
  if (pool.desired === null) return `actual ${pool.actual} (no desired size yet)`;
  return `desired ${pool.desired}, actual ${pool.actual}`;
}

export function formatBounds(pool: Pick<PoolView, 'min' | 'max'>): string {
  return `${pool.min}–${pool.max}`;
}

/** Whether a duration as written in a pool (`0s`, `0m`) is zero: such a pool has no cooldown. */
function isZeroDuration(duration: string): boolean {
  return /^0+(\.0+)?[a-z]*$/.test(duration);
}

/** The cooldown in words: `none`, `30s, not cooling down`, or `until <time>`. */
export function describeCooldown(pool: Pick<PoolView, 'cooldown' | 'cooldownUntil'>): string {
  if (pool.cooldownUntil) return `cooling down until ${formatTime(pool.cooldownUntil)}`;
  if (isZeroDuration(pool.cooldown)) return 'none';
  return `${pool.cooldown}, not cooling down`;
}

/** Who or what asked: `olga`, `olga (API token)`, `alert rule ops.high-load (hook prod)`, `job ops.nightly-scale`. */
export function describeRequester(requester: ScaleRequester): string {
  switch (requester.type) {
    case 'user':
      return requester.token ? `${requester.user} (API token)` : requester.user;
    case 'alert':
      return `alert rule ${requester.rule} (hook ${requester.hook})`;
    case 'job':
      return `job ${requester.job}`;
  }
}

/** From and to with the signed difference: `2 → 4 (+2)`, `4 → 3 (−1)`. */
export function describeChange(action: Pick<PoolAction, 'from' | 'to'>): string {
  const delta = action.to - action.from;
  const signed = delta > 0 ? `+${delta}` : delta < 0 ? `−${-delta}` : '±0';
  return `${action.from} → ${action.to} (${signed})`;
}

/** An action's state in a few words. */
export function describeActionStatus(status: PoolActionStatus): string {
  switch (status) {
    case 'pending_approval':
      return 'waits for approval';
    case 'running':
      return 'provider running';
    case 'settling':
      return 'settling';
    case 'succeeded':
      return 'succeeded';
    case 'failed':
      return 'failed';
    case 'rejected':
      return 'rejected';
    case 'refused':
      return 'refused';
  }
}

/** The status colour (styles.css) for an action's state, like an execution's. */
export function actionStatusClass(status: PoolActionStatus): string {
  switch (status) {
    case 'pending_approval':
      return 'pending';
    case 'running':
    case 'settling':
      return 'running';
    case 'succeeded':
      return 'succeeded';
    case 'failed':
      return 'failed';
    case 'rejected':
    case 'refused':
      return 'skipped';
  }
}

/** Who decided, when someone did: `approved by root`, `rejected by root`. */
export function describeDecision(action: Pick<PoolAction, 'status' | 'decidedBy'>): string | null {
  if (!action.decidedBy) return null;
  return action.status === 'rejected' ? `rejected by ${action.decidedBy}` : `approved by ${action.decidedBy}`;
}

/**
 * What the verification saw: `settled: 4 live, target 4 (web-1, …)` when the nodes arrived (or left), `not settled:
 * …` when they did not, `waiting for the nodes (target 4)` while settling, or null when there is nothing to say.
 */
export function describeVerification(action: Pick<PoolAction, 'status' | 'to' | 'from' | 'verification'>): string | null {
  const seen = action.verification;
  if (!seen) {
    if (action.status !== 'settling') return null;
    return `waiting for the nodes to ${action.to > action.from ? 'join' : 'leave'} (target ${action.to})`;
  }
  const nodes = seen.nodes.length > 0 ? seen.nodes.join(', ') : 'none';
  const counts = `${seen.actual} live, target ${seen.target} (seen: ${nodes})`;
  return action.status === 'succeeded' ? `settled: ${counts}` : `not settled: ${counts}`;
}

// -------------------------------------------------------------------------------------------
// The scale form

/** Add nodes (`by: +n`), remove nodes (`by: -n`), or scale to a size (`to: n`). */
export type ScaleMode = 'add' | 'remove' | 'to';

export interface ScaleForm {
  mode: ScaleMode;
  /** As typed. */
  count: string;
  reason: string;
  /** Admins only: act during the cooldown. */
  isForced: boolean;
}

/** The body of `POST /api/v1/pools/{id}/scale`. */
export interface ScaleRequestBody {
  by?: number;
  to?: number;
  reason: string;
  force?: true;
}

export interface ScaleFormErrors {
  count?: string;
  reason?: string;
}

/** The API's limits (scale-request.ts): `by` within ±1000, `to` 0–10,000, a reason of 1–500 characters. */
const MAX_BY = 1000;
const MAX_TO = 10_000;
const MAX_REASON = 500;

export function countLabel(mode: ScaleMode): string {
  switch (mode) {
    case 'add':
      return 'Nodes to add';
    case 'remove':
      return 'Nodes to remove';
    case 'to':
      return 'Target size';
  }
}

/** What is wrong with each field, by the API's rules; an empty object when the form may be sent. */
export function scaleFormErrors(form: ScaleForm): ScaleFormErrors {
  const errors: ScaleFormErrors = {};
  const text = form.count.trim();
  const count = Number(text);
  const [least, most] = form.mode === 'to' ? [0, MAX_TO] : [1, MAX_BY];
  if (text === '') errors.count = 'Say how many.';
  else if (!/^\d+$/.test(text) || !Number.isSafeInteger(count)) errors.count = 'Write a whole number.';
  else if (count < least || count > most) errors.count = `Between ${least} and ${most}.`;
  const reason = form.reason.trim();
  if (reason === '') errors.reason = 'Say why, e.g. "campaign tomorrow".';
  else if (reason.length > MAX_REASON) errors.reason = `At most ${MAX_REASON} characters.`;
  return errors;
}

/** The request to send, or null while the form has errors. */
export function scaleRequestBody(form: ScaleForm): ScaleRequestBody | null {
  if (Object.keys(scaleFormErrors(form)).length > 0) return null;
  const count = Number(form.count.trim());
  const change = form.mode === 'to' ? { to: count } : { by: form.mode === 'add' ? count : -count };
  return { ...change, reason: form.reason.trim(), ...(form.isForced ? { force: true as const } : {}) };
}

/**
 * What the request would do, as far as the page knows (the portal decides under the pool's lock, so this is a
 * preview, not a gate): the new size, or why the portal will refuse it, or that it will wait for an admin.
 */
export function previewScale(pool: PoolView, body: Pick<ScaleRequestBody, 'by' | 'to' | 'force'>, isAdmin: boolean): string {
  const from = currentSize(pool);
  const to = body.to ?? from + (body.by ?? 0);
  if (to === from) return `The pool is already at ${from}: nothing would change.`;
  if (to < pool.min) return `That would take the pool to ${to}, below its min of ${pool.min}: the portal will refuse it.`;
  if (to > pool.max) return `That would take the pool to ${to}, above its max of ${pool.max}: the portal will refuse it.`;
  const change = `Desired goes from ${from} to ${to}.`;
  if (pool.cooldownUntil && !body.force) {
    const who = isAdmin ? 'tick "Force" to act anyway' : 'an admin may force it';
    return `${change} But the pool is cooling down until ${formatTime(pool.cooldownUntil)}: the portal will refuse it (${who}).`;
  }
  if (!isAdmin && Math.abs(to - from) > pool.operatorLimit)
    return `${change} That is more than the operator limit of ${pool.operatorLimit}: it waits for an admin's approval.`;
  return change;
}

/** The answer to a request (202), in words: started, or waiting for an admin. */
export function describeScaleOutcome(action: PoolAction): string {
  const change = describeChange(action);
  switch (action.status) {
    case 'pending_approval':
      return `Requested ${change}: it waits for an admin's approval, being more than this pool's operator limit.`;
    case 'running':
    case 'settling':
      return `Scaling ${change} started.`;
    default:
      return `Request ${change}: ${describeActionStatus(action.status)}${action.message ? `: ${action.message}` : ''}.`;
  }
}

/** How many actions wait for an admin. */
export function pendingCount(actions: readonly Pick<PoolAction, 'status'>[]): number {
  return actions.filter((a) => a.status === 'pending_approval').length;
}
