import { paramsToGiveAgain, rerunChoices } from './rerun';

const operator = { username: 'olga', roles: [{ role: 'operator' as const }] };
const viewer = { username: 'vic', roles: [{ role: 'viewer' as const }] };
const runbook = { id: 'web.restart', version: 'v1' };
const failed = { status: 'failed', runbookVersion: 'v1', nodes: [{ status: 'succeeded' }, { status: 'failed' }] };

describe('run again and retry failed nodes', () => {
  it('offers both once a run with a failed node ended, to whoever may run the runbook', () => {
    expect(rerunChoices(operator, failed, runbook)).toEqual({
      runAgain: { isShown: true, whyDisabled: null },
      retryFailedNodes: { isShown: true, whyDisabled: null },
    });
  });

  it('offers nothing while the run goes on, and no retry when every node succeeded', () => {
    expect(rerunChoices(operator, { ...failed, status: 'running' }, runbook).runAgain.isShown).toBe(false);
    const succeeded = { status: 'succeeded', runbookVersion: 'v1', nodes: [{ status: 'succeeded' }] };
    expect(rerunChoices(operator, succeeded, runbook)).toMatchObject({ runAgain: { isShown: true }, retryFailedNodes: { isShown: false } });
  });

  it('says why the buttons are disabled', () => {
    expect(rerunChoices(viewer, failed, runbook).runAgain.whyDisabled).toMatch(/roles do not allow running/);
    expect(rerunChoices(operator, failed, { ...runbook, version: 'v2' }).runAgain.whyDisabled).toMatch(/changed since this run/);
    expect(rerunChoices(operator, failed, null).retryFailedNodes.whyDisabled).toBe('The runbook is no longer in the catalog.');
  });

  it('reads the secret parameters a refused rerun asks for', () => {
    expect(paramsToGiveAgain([{ field: 'params.password', message: 'x' }, { field: 'targets' }])).toEqual(['password']);
    expect(paramsToGiveAgain(undefined)).toEqual([]);
  });
});
