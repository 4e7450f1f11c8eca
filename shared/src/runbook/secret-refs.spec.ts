import { resolveStepSecrets, secretsUsedBy } from './secret-refs';
import type { Runbook } from './schema';

const runbook: Runbook = {
  apiVersion: 'baton/v1',
  kind: 'Runbook',
  id: 'demo.secrets',
  title: 'Secrets',
  params: { token: { type: 'secret', secret: 'fallback-token' }, typed: { type: 'secret' } },
  steps: [
    { id: 'call', run: 'echo', env: { TOKEN: { secret: 'demo-token' }, MODE: 'plain' } },
    { id: 'plain', run: 'echo' },
  ],
  onFailure: [{ id: 'notify', run: 'echo', env: { HOOK: { secret: 'hook-url' } } }],
};

describe('secretsUsedBy', () => {
  it('names every stored secret a runbook uses and where', () => {
    expect(secretsUsedBy(runbook)).toEqual([
      { secret: 'fallback-token', where: 'params.token' },
      { secret: 'demo-token', where: 'steps.call.env.TOKEN' },
      { secret: 'hook-url', where: 'onFailure.notify.env.HOOK' },
    ]);
  });
});

describe('resolveStepSecrets', () => {
  it('replaces secret references by their values and keeps plain values', () => {
    const steps = resolveStepSecrets(runbook.steps, new Map([['demo-token', 'hunter2-value']]));
    expect(steps).toEqual([
      { id: 'call', run: 'echo', env: { TOKEN: 'hunter2-value', MODE: 'plain' } },
      { id: 'plain', run: 'echo' },
    ]);
  });

  it('refuses to build a step whose secret was not looked up', () => {
    expect(() => resolveStepSecrets(runbook.steps, new Map())).toThrow('secret "demo-token" of step call');
  });
});
