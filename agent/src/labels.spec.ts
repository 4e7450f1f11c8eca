import { parseLabels } from './labels';

describe('parseLabels', () => {
  it('reads comma-separated key=value pairs', () => {
    expect(parseLabels('role=web, env=dev')).toEqual({ role: 'web', env: 'dev' });
  });

  it('accepts an empty list', () => {
    expect(parseLabels('')).toEqual({});
  });

  it('names a pair without "="', () => {
    expect(() => parseLabels('role=web,oops')).toThrow('label "oops" must look like key=value');
  });
});
