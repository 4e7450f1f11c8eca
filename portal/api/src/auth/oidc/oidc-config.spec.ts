import { parseConfig } from '../../core/config';

describe('single sign-on configuration', () => {
  const sso = {
    BATON_OIDC_ISSUER: 'https://id.example.com/realms/ops',
    BATON_OIDC_CLIENT_ID: 'baton',
    BATON_OIDC_CLIENT_SECRET: 'secret',
    BATON_OIDC_REDIRECT_URL: 'https://baton.example.com/api/v1/auth/oidc/callback',
  };

  it('is off when no issuer is set', () => {
    expect(parseConfig({}).oidc).toBeUndefined();
  });

  it('takes the defaults for scopes and claims', () => {
    expect(parseConfig(sso).oidc).toEqual({
      issuer: new URL(sso.BATON_OIDC_ISSUER),
      clientId: 'baton',
      clientSecret: 'secret',
      redirectUrl: new URL(sso.BATON_OIDC_REDIRECT_URL),
      scopes: 'openid profile email',
      rolesClaim: 'roles',
      roleMap: undefined,
      usernameClaim: 'preferred_username',
    });
  });

  it('reads a role map of single grants and lists of grants', () => {
    const config = parseConfig({ ...sso, BATON_OIDC_ROLE_MAP: '{"sre":"admin","web-team":["operator:web","viewer"]}' });
    expect(config.oidc?.roleMap).toEqual({
      sre: [{ role: 'admin' }],
      'web-team': [{ role: 'operator', namespace: 'web' }, { role: 'viewer' }],
    });
  });

  it('names the missing client id', () => {
    expect(() => parseConfig({ ...sso, BATON_OIDC_CLIENT_ID: undefined })).toThrow(
      'invalid configuration: BATON_OIDC_CLIENT_ID: required when BATON_OIDC_ISSUER is set',
    );
  });

  it('names the missing redirect URL', () => {
    expect(() => parseConfig({ ...sso, BATON_OIDC_REDIRECT_URL: undefined })).toThrow(/BATON_OIDC_REDIRECT_URL: required/);
  });

  it('refuses a redirect URL that is not the callback route', () => {
    expect(() => parseConfig({ ...sso, BATON_OIDC_REDIRECT_URL: 'https://baton.example.com/' })).toThrow(
      /BATON_OIDC_REDIRECT_URL: must be the portal's URL followed by \/api\/v1\/auth\/oidc\/callback/,
    );
  });

  it('refuses plain http except on this machine', () => {
    expect(() => parseConfig({ ...sso, BATON_OIDC_ISSUER: 'http://id.example.com' })).toThrow(/BATON_OIDC_ISSUER: must be an https URL/);
    expect(parseConfig({ ...sso, BATON_OIDC_ISSUER: 'http://127.0.0.1:8080' }).oidc?.issuer.href).toBe('http://127.0.0.1:8080/');
  });

  it('refuses an issuer that is not a URL', () => {
    expect(() => parseConfig({ ...sso, BATON_OIDC_ISSUER: 'id.example.com' })).toThrow(/BATON_OIDC_ISSUER: must be a URL/);
  });

  it('refuses scopes without openid', () => {
    expect(() => parseConfig({ ...sso, BATON_OIDC_SCOPES: 'profile email' })).toThrow(/BATON_OIDC_SCOPES: must include openid/);
  });

  it.each([
    ['not JSON', '{sre: admin}', /must be a JSON object/],
    ['an array', '["admin"]', /must be a JSON object/],
    ['an unknown role', '{"sre":"root"}', /"sre": "root" is not a role/],
    ['a bad namespace', '{"web":"operator:Web"}', /"web": "operator:Web" is not a role/],
    ['a non-string grant', '{"sre":1}', /"sre": 1 is not a role/],
  ])('refuses a role map with %s', (_case, roleMap, message) => {
    expect(() => parseConfig({ ...sso, BATON_OIDC_ROLE_MAP: roleMap })).toThrow(message);
  });
});
