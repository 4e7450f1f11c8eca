import { notifierSchema, type Notifier } from '@baton/shared';
import { isWantedBy, namedFor, recipientsOf } from './recipients';

const notifier = (fields: Record<string, unknown>): Notifier =>
  notifierSchema.parse({ apiVersion: 'baton/v1', kind: 'Notifier', type: 'webhook', url: 'https://hooks.example/x', ...fields });

const failedInOps = { namespace: 'ops', runbook: 'ops.backup', trigger: 'schedule' as const, job: 'ops.nightly' };

describe('who hears about an event', () => {
  it('takes the events a notifier lists in on, and no others', () => {
    const ops = notifier({ id: 'ops', on: ['execution.failed'] });
    expect(isWantedBy(ops, 'execution.failed', failedInOps)).toBe(true);
    expect(isWantedBy(ops, 'execution.succeeded', failedInOps)).toBe(false);
  });

  it('needs every list of match to contain the event, and an event without the field does not fit a list', () => {
    const narrow = notifier({
      id: 'n',
      on: ['execution.failed', 'alert.rule.tripped'],
      match: { namespaces: ['ops'], triggers: ['schedule'] },
    });
    expect(isWantedBy(narrow, 'execution.failed', failedInOps)).toBe(true);
    expect(isWantedBy(narrow, 'execution.failed', { ...failedInOps, trigger: 'user' })).toBe(false);
    expect(isWantedBy(narrow, 'execution.failed', { ...failedInOps, namespace: 'web' })).toBe(false);
    expect(isWantedBy(narrow, 'alert.rule.tripped', { namespace: 'ops' })).toBe(false);
    const jobs = notifier({ id: 'j', on: ['execution.failed'], match: { jobs: ['ops.nightly'] } });
    expect(isWantedBy(jobs, 'execution.failed', failedInOps)).toBe(true);
    expect(isWantedBy(jobs, 'execution.failed', { namespace: 'ops', runbook: 'ops.backup' })).toBe(false);
  });

  it('ignores a disabled notifier', () => {
    expect(isWantedBy(notifier({ id: 'off', on: ['execution.failed'], enabled: false }), 'execution.failed', failedInOps)).toBe(false);
  });

  it('adds the notifiers a runbook or job names for that outcome, once each', () => {
    const named = namedFor(
      [
        [{ notifier: 'chat', on: ['failed', 'timed_out'] }],
        [
          { notifier: 'chat', on: ['failed'] },
          { notifier: 'mail', on: ['succeeded'] },
        ],
      ],
      'execution.failed',
    );
    expect(named).toEqual(['chat', 'chat']);
    expect(namedFor([[{ notifier: 'mail', on: ['node.lost'] }]], 'node.lost')).toEqual(['mail']);
    expect(namedFor([[{ notifier: 'mail', on: ['failed'] }]], 'alert.rule.tripped')).toEqual([]);
    const all = [notifier({ id: 'chat' }), notifier({ id: 'mail' }), notifier({ id: 'ops', on: ['execution.failed'] })];
    expect(recipientsOf(all, 'execution.failed', failedInOps, named)).toEqual({ recipients: ['chat', 'ops'], unknown: [] });
  });

  it('reports a named notifier that does not exist or is disabled instead of failing', () => {
    const all = [notifier({ id: 'off', enabled: false })];
    expect(recipientsOf(all, 'execution.failed', failedInOps, ['off', 'gone', 'gone'])).toEqual({
      recipients: [],
      unknown: ['off', 'gone'],
    });
  });
});
