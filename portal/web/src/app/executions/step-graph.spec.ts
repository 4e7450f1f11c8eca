import { stepLevels } from './step-graph';

describe('step graph', () => {
  it('puts each step one column right of the deepest step it needs', () => {
    const levels = stepLevels([
      { id: 'drain' },
      { id: 'backup' },
      { id: 'restart', needs: ['drain', 'backup'] },
      { id: 'check', needs: ['restart'] },
      { id: 'notify', needs: ['drain'] },
    ]);
    expect(levels.map((l) => l.map((s) => s.id))).toEqual([['drain', 'backup'], ['restart', 'notify'], ['check']]);
  });

  it('shows a runbook of independent steps as one column', () => {
    expect(stepLevels([{ id: 'a' }, { id: 'b' }]).map((l) => l.length)).toEqual([2]);
  });
});
