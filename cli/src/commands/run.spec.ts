import { parseAssignments, parseTargets } from './run';

describe('baton run arguments', () => {
  it('reads key=value parameters; a value may hold "="', () => {
    expect(parseAssignments(['path=/var', 'query=a=b', 'empty='], '--param')).toEqual({ path: '/var', query: 'a=b', empty: '' });
  });

  it('refuses a parameter without a key, with exit code 2', () => {
    expect(() => parseAssignments(['=x'], '--param')).toThrow(
      expect.objectContaining({ exitCode: 2, message: '--param must be key=value (got "=x")' }),
    );
    expect(() => parseAssignments(['path'], '--param')).toThrow('--param must be key=value (got "path")');
  });

  it('chooses nodes by name, labels or local, one kind at a time', () => {
    expect(parseTargets({ target: ['web-1', 'web-2'] })).toEqual({ names: ['web-1', 'web-2'] });
    expect(parseTargets({ label: ['role=web', 'zone=a'] })).toEqual({ labels: { role: 'web', zone: 'a' } });
    expect(parseTargets({ local: true })).toEqual({ local: true });
    expect(parseTargets({})).toBeUndefined();
    expect(() => parseTargets({ target: ['web-1'], label: ['role=web'] })).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});
