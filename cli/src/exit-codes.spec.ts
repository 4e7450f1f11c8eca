import { EXIT, exitCodeForStatus } from './exit-codes';

describe('exit codes', () => {
  it('gives each outcome of an execution its own code', () => {
    expect(exitCodeForStatus('succeeded')).toBe(0);
    expect(exitCodeForStatus('failed')).toBe(1);
    expect(exitCodeForStatus('timed_out')).toBe(3);
    expect(exitCodeForStatus('cancelled')).toBe(4);
    expect(exitCodeForStatus('rejected')).toBe(5);
    expect(exitCodeForStatus('waiting')).toBe(5);
  });

  it('has no code for a run still going, and counts an unknown final state as a failure', () => {
    expect(exitCodeForStatus('running')).toBeUndefined();
    expect(exitCodeForStatus('queued')).toBeUndefined();
    expect(exitCodeForStatus('exploded')).toBe(EXIT.failed);
  });

  it('keeps every code distinct', () => {
    const codes = Object.values(EXIT);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
