import { claimValue, grantsFromClaims, parseGrant, usernameFromClaims } from './oidc-roles';

describe('parseGrant', () => {
  it('reads a global role', () => {
    expect(parseGrant('admin')).toEqual({ role: 'admin' });
  });

  it('reads a role limited to a namespace', () => {
    expect(parseGrant('operator:web')).toEqual({ role: 'operator', namespace: 'web' });
  });

  it.each(['', 'root', 'Admin', 'operator:', 'operator:Web', 'operator:web:extra', ':web'])('refuses %j', (text) => {
    expect(parseGrant(text)).toBeUndefined();
  });
});

describe('claimValue', () => {
  it('prefers the exact claim name, even with dots in it', () => {
    expect(claimValue({ 'https://example.com/roles': ['a'] }, 'https://example.com/roles')).toEqual(['a']);
  });

  it('follows a dotted path into nested claims', () => {
    expect(claimValue({ realm_access: { roles: ['sre'] } }, 'realm_access.roles')).toEqual(['sre']);
  });

  it('gives undefined for a missing path', () => {
    expect(claimValue({ realm_access: 'x' }, 'realm_access.roles')).toBeUndefined();
  });
});

describe('grantsFromClaims', () => {
  const roleMap = {
    sre: [{ role: 'admin' as const }],
    'web-team': [{ role: 'operator' as const, namespace: 'web' }],
    'db-team': [
      { role: 'operator' as const, namespace: 'db' },
      { role: 'viewer' as const, namespace: 'web' },
    ],
  };

  it('maps each claim value through the role map', () => {
    expect(grantsFromClaims({ groups: ['web-team', 'db-team'] }, 'groups', roleMap)).toEqual([
      { role: 'operator', namespace: 'web' },
      { role: 'operator', namespace: 'db' },
      { role: 'viewer', namespace: 'web' },
    ]);
  });

  it('ignores values the role map does not know, including inherited object keys', () => {
    expect(grantsFromClaims({ groups: ['marketing', 'constructor', 'sre'] }, 'groups', roleMap)).toEqual([{ role: 'admin' }]);
  });

  it('with a role map, does not take values literally', () => {
    expect(grantsFromClaims({ groups: ['admin'] }, 'groups', roleMap)).toEqual([]);
  });

  it('without a role map, takes values literally and ignores the unknown', () => {
    expect(grantsFromClaims({ roles: ['viewer', 'operator:web', 'superuser'] }, 'roles')).toEqual([
      { role: 'viewer' },
      { role: 'operator', namespace: 'web' },
    ]);
  });

  it('accepts a single string claim', () => {
    expect(grantsFromClaims({ roles: 'auditor' }, 'roles')).toEqual([{ role: 'auditor' }]);
  });

  it('drops duplicate grants', () => {
    expect(grantsFromClaims({ roles: ['viewer', 'viewer'] }, 'roles')).toEqual([{ role: 'viewer' }]);
  });

  it.each([[{}], [{ roles: 42 }], [{ roles: null }], [{ roles: [1, {}] }]])('gives no grants for %j', (claims) => {
    expect(grantsFromClaims(claims, 'roles')).toEqual([]);
  });
});

describe('usernameFromClaims', () => {
  it('uses the configured claim', () => {
    expect(usernameFromClaims({ sub: 'u-1', preferred_username: 'alice' }, 'preferred_username')).toBe('alice');
  });

  it('falls back to the subject when the claim is missing or empty', () => {
    expect(usernameFromClaims({ sub: 'u-1' }, 'preferred_username')).toBe('u-1');
    expect(usernameFromClaims({ sub: 'u-1', preferred_username: ' ' }, 'preferred_username')).toBe('u-1');
  });

  it('gives undefined without a subject', () => {
    expect(usernameFromClaims({}, 'preferred_username')).toBeUndefined();
  });
});
