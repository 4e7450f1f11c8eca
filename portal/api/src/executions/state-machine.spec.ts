import { executionOutcome, executionStatesLeadingTo, isTerminalNodeRun, nodeRunStatesLeadingTo } from './state-machine';

describe('execution state machine', () => {
  it('lets a node run end lost only once dispatched or running', () => {
    expect(nodeRunStatesLeadingTo('lost')).toEqual(['queued', 'running', 'waiting']);
  });

  it('lets a node run end unreachable only before it started', () => {
    expect(nodeRunStatesLeadingTo('unreachable')).toEqual(['queued']);
  });

  it('narrows a move decided on an earlier view to the state seen then', () => {
    expect(nodeRunStatesLeadingTo('cancelled', 'queued')).toEqual(['queued']);
    expect(nodeRunStatesLeadingTo('unreachable', 'running')).toEqual([]);
    expect(nodeRunStatesLeadingTo('lost', 'succeeded')).toEqual([]);
  });

  it('never leaves a terminal state', () => {
    for (const terminal of ['succeeded', 'failed', 'cancelled', 'timed_out', 'unreachable', 'lost'] as const) {
      expect(isTerminalNodeRun(terminal)).toBe(true);
      expect(nodeRunStatesLeadingTo('running')).not.toContain(terminal);
    }
    expect(executionStatesLeadingTo('running')).toEqual(['queued', 'waiting']);
  });

  it('derives the outcome of an execution from its node runs', () => {
    expect(executionOutcome(['succeeded', 'succeeded'], false)).toBe('succeeded');
    expect(executionOutcome(['succeeded', 'lost'], false)).toBe('failed');
    expect(executionOutcome(['succeeded', 'timed_out'], false)).toBe('timed_out');
    expect(executionOutcome(['cancelled', 'succeeded'], true)).toBe('cancelled');
  });
});
