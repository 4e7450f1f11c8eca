import { describeTargets, hasLabels, matchTargets, parseLabelFilter } from './node';

const NODES = [
  { name: 'local', labels: {} },
  { name: 'web-1', labels: { role: 'web', env: 'prod' } },
  { name: 'web-2', labels: { role: 'web', env: 'staging' } },
  { name: 'db-1', labels: { role: 'db', env: 'prod' } },
];

describe('target preview', () => {
  it('picks the portal host for local targets and when none are given', () => {
    expect(matchTargets({ local: true }, NODES).map((n) => n.name)).toEqual(['local']);
    expect(matchTargets(undefined, NODES).map((n) => n.name)).toEqual(['local']);
  });

  it('picks nodes by name, ignoring names no node has', () => {
    expect(matchTargets({ names: ['db-1', 'ghost'] }, NODES).map((n) => n.name)).toEqual(['db-1']);
  });

  it('picks nodes carrying every label', () => {
    expect(matchTargets({ labels: { role: 'web' } }, NODES).map((n) => n.name)).toEqual(['web-1', 'web-2']);
    expect(matchTargets({ labels: { role: 'web', env: 'prod' } }, NODES).map((n) => n.name)).toEqual(['web-1']);
  });

  it('says in words what the targets ask for', () => {
    expect(describeTargets({ labels: { role: 'web', env: 'prod' } })).toBe('nodes labelled role=web, env=prod');
    expect(describeTargets({ names: ['a', 'b'] })).toBe('nodes named a, b');
  });
});

describe('label filter', () => {
  it('reads key=value pairs and bare keys', () => {
    expect(parseLabelFilter('role=web, env')).toEqual({ role: 'web', env: null });
    expect(parseLabelFilter('')).toEqual({});
    expect(parseLabelFilter('=web')).toBeNull();
  });

  it('matches values exactly and bare keys by presence', () => {
    expect(hasLabels({ role: 'web', env: 'prod' }, { role: 'web', env: null })).toBe(true);
    expect(hasLabels({ role: 'web' }, { env: null })).toBe(false);
    expect(hasLabels({ role: 'webserver' }, { role: 'web' })).toBe(false);
  });
});
