import { decideScale, isSettled, pickNodes, type PoolSnapshot } from './scaling';
import type { ScaleRequester } from './pool.entity';

const pool = (over: Partial<PoolSnapshot> = {}): PoolSnapshot => ({
  min: 0,
  max: 5,
  desired: 1,
  lastActionAt: null,
  cooldownMs: 60_000,
  operatorLimit: 2,
  ...over,
});
const operator: ScaleRequester = { type: 'user', user: 'olga', isAdmin: false };
const admin: ScaleRequester = { type: 'user', user: 'root', isAdmin: true };
const alert: ScaleRequester = { type: 'alert', rule: 'web.high-load', hook: 'am', fingerprint: 'f1' };
const now = new Date('2025-11-24T10:00:00Z');

describe('decideScale', () => {
  it('grants an operator a change within the operator limit', () => {
    expect(decideScale(pool(), { by: 2 }, operator, now)).toEqual({ kind: 'grant', from: 1, to: 3 });
    expect(decideScale(pool(), { to: 0 }, operator, now)).toEqual({ kind: 'grant', from: 1, to: 0 });
  });

  it('sends a larger operator change for approval, but not an admin one', () => {
    expect(decideScale(pool(), { by: 3 }, operator, now)).toMatchObject({ kind: 'approval', to: 4 });
    expect(decideScale(pool(), { by: 3 }, admin, now)).toMatchObject({ kind: 'grant', to: 4 });
  });

  it('refuses to leave the bounds with a 409 that says which bound', () => {
    expect(decideScale(pool(), { by: 5 }, admin, now)).toMatchObject({
      kind: 'refuse',
      status: 409,
      message: expect.stringContaining('max of 5'),
    });
    expect(decideScale(pool({ min: 1 }), { by: -1 }, admin, now)).toMatchObject({
      status: 409,
      message: expect.stringContaining('min of 1'),
    });
    expect(decideScale(pool(), { to: 1 }, admin, now)).toMatchObject({ status: 409, message: expect.stringContaining('already at 1') });
  });

  it('refuses automatic requests during the cooldown and records them; people need an admin force', () => {
    const cooling = pool({ lastActionAt: new Date(now.getTime() - 10_000) });
    expect(decideScale(cooling, { by: 1 }, alert, now)).toMatchObject({
      kind: 'refuse',
      isRecorded: true,
      message: expect.stringContaining('cooldown'),
    });
    expect(decideScale(cooling, { by: 1 }, operator, now)).toMatchObject({ kind: 'refuse', status: 409, isRecorded: false });
    expect(decideScale(cooling, { by: 1, isForced: true }, operator, now)).toMatchObject({ kind: 'refuse', status: 403 });
    expect(decideScale(cooling, { by: 1, isForced: true }, admin, now)).toMatchObject({ kind: 'grant', to: 2 });
    expect(decideScale(pool({ lastActionAt: new Date(now.getTime() - 61_000) }), { by: 1 }, alert, now)).toMatchObject({ kind: 'grant' });
  });

  it('checks only the bounds again when an admin approves', () => {
    const cooling = pool({ lastActionAt: now, desired: 2 });
    expect(decideScale(cooling, { by: 3 }, operator, now, true)).toEqual({ kind: 'grant', from: 2, to: 5 });
    expect(decideScale(pool({ desired: 3 }), { by: 3 }, operator, now, true)).toMatchObject({ kind: 'refuse', status: 409 });
  });
});

describe('pickNodes', () => {
  const at = (s: number) => new Date(now.getTime() + s * 1000);
  const nodes = [
    { name: 'a', registeredAt: at(1), isBusy: false },
    { name: 'b', registeredAt: at(2), isBusy: true },
    { name: 'c', registeredAt: at(3), isBusy: false },
  ];

  it('takes the newest, the oldest, or idle nodes first', () => {
    expect(pickNodes(nodes, 2, 'newest')).toEqual(['c', 'b']);
    expect(pickNodes(nodes, 2, 'oldest')).toEqual(['a', 'b']);
    expect(pickNodes(nodes, 2, 'idle')).toEqual(['c', 'a']);
    expect(pickNodes(nodes, 5, 'idle')).toEqual(['c', 'a', 'b']);
  });
});

describe('isSettled', () => {
  it('compares in the direction of the change', () => {
    expect(isSettled(0, 2, 2)).toBe(true);
    expect(isSettled(0, 2, 1)).toBe(false);
    expect(isSettled(2, 0, 0)).toBe(true);
    expect(isSettled(2, 0, 1)).toBe(false);
  });
});
