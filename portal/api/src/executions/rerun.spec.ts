import { rerunPlan, type RerunSource } from './rerun';

const source = (overrides: Partial<RerunSource> = {}): RerunSource => ({
  status: 'failed',
  params: { service: 'nginx', drain_seconds: 10 },
  targets: { labels: { role: 'web' }, concurrency: 2 },
  nodes: [
    { node: 'web-1', status: 'succeeded' },
    { node: 'web-2', status: 'failed' },
    { node: 'web-3', status: 'cancelled' },
  ],
  ...overrides,
});

describe('rerun plans', () => {
  it('runs again with the same parameters and targets', () => {
    expect(rerunPlan(source(), { onlyFailedNodes: false })).toEqual({
      isPossible: true,
      params: { service: 'nginx', drain_seconds: 10 },
      targets: { labels: { role: 'web' }, concurrency: 2 },
    });
  });

  it('retries only the nodes that did not succeed, keeping the rolling settings', () => {
    expect(rerunPlan(source(), { onlyFailedNodes: true })).toMatchObject({
      isPossible: true,
      targets: { names: ['web-2', 'web-3'], concurrency: 2 },
    });
  });

  it('refuses to run with a masked secret until it is given again', () => {
    const withSecret = source({ params: { service: 'nginx', password: '***', note: 'key=*** here' } });
    const refused = rerunPlan(withSecret, { onlyFailedNodes: false });
    expect(refused).toEqual({
      isPossible: false,
      message: expect.stringMatching(/^parameters password, note held secret values, which are never stored: give them again in "params"/),
      details: [
        { field: 'params.password', message: 'a secret value is never stored; give it again' },
        { field: 'params.note', message: 'a secret value is never stored; give it again' },
      ],
    });
    expect(rerunPlan(withSecret, { onlyFailedNodes: false, params: { password: 'hunter22', note: null } })).toEqual({
      isPossible: true,
      params: { service: 'nginx', password: 'hunter22', note: null },
      targets: withSecret.targets,
    });
  });

  it('refuses to retry failed nodes of a run still going, or of one where every node succeeded', () => {
    expect(rerunPlan(source({ status: 'running' }), { onlyFailedNodes: true })).toMatchObject({
      isPossible: false,
      message: 'the execution is still running: retry its failed nodes once it has ended',
    });
    const allGood = source({ status: 'succeeded', nodes: [{ node: 'web-1', status: 'succeeded' }] });
    expect(rerunPlan(allGood, { onlyFailedNodes: true })).toMatchObject({
      isPossible: false,
      message: expect.stringContaining('every node succeeded'),
    });
    expect(rerunPlan(allGood, { onlyFailedNodes: false }).isPossible).toBe(true);
  });
});
