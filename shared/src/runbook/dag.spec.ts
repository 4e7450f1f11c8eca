import { findCycle, topologicalOrder, type DagStep } from './dag';

const step = (id: string, ...needs: string[]): DagStep => ({ id, needs });

describe('findCycle', () => {
  it('finds no cycle in a chain', () => {
    expect(findCycle([step('a'), step('b', 'a'), step('c', 'b')])).toBeNull();
  });

  it('finds no cycle in a diamond', () => {
    expect(findCycle([step('a'), step('b', 'a'), step('c', 'a'), step('d', 'b', 'c')])).toBeNull();
  });

  it('names a two-step cycle starting at the step written first', () => {
    expect(findCycle([step('a', 'b'), step('b', 'a')])).toEqual(['a', 'b', 'a']);
  });

  it('names a step that needs itself', () => {
    expect(findCycle([step('a', 'a')])).toEqual(['a', 'a']);
  });

  it('names only the steps on the cycle, not the ones leading to it', () => {
    expect(findCycle([step('start', 'x'), step('x', 'y'), step('y', 'z'), step('z', 'x')])).toEqual(['x', 'y', 'z', 'x']);
  });

  it('ignores needs naming unknown steps', () => {
    expect(findCycle([step('a', 'ghost')])).toBeNull();
  });

  it('sees a cycle through a duplicated id', () => {
    expect(findCycle([step('a', 'b'), step('b', 'a'), step('a')])).toEqual(['a', 'b', 'a']);
  });
});

describe('topologicalOrder', () => {
  it('keeps file order when no step needs another', () => {
    expect(topologicalOrder([step('c'), step('a'), step('b')])).toEqual(['c', 'a', 'b']);
  });

  it('puts a step after the steps it needs even when written before them', () => {
    expect(topologicalOrder([step('check', 'restart'), step('restart', 'drain'), step('drain')])).toEqual(['drain', 'restart', 'check']);
  });

  it('keeps file order among steps that become ready together', () => {
    const steps = [step('prepare'), step('disk', 'prepare'), step('memory', 'prepare'), step('bundle', 'memory', 'disk')];
    expect(topologicalOrder(steps)).toEqual(['prepare', 'disk', 'memory', 'bundle']);
  });

  it('accepts steps without a needs field', () => {
    expect(topologicalOrder([{ id: 'a' }, { id: 'b', needs: ['a'] }])).toEqual(['a', 'b']);
  });

  it('refuses a cycle and names it', () => {
    expect(() => topologicalOrder([step('a', 'b'), step('b', 'a')])).toThrow('cycle in needs: a -> b -> a');
  });

  it('refuses a need naming an unknown step', () => {
    expect(() => topologicalOrder([step('a', 'ghost')])).toThrow('step "a" needs unknown step "ghost"');
  });
});
