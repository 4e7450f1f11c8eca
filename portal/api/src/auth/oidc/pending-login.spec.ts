import { randomBytes } from 'node:crypto';
import { openPendingLogin, PendingLogin, readCookie, sealPendingLogin } from './pending-login';

describe('pending login', () => {
  const key = randomBytes(32);
  const login: PendingLogin = { state: 's-1', nonce: 'n-1', codeVerifier: 'v-1', expiresAtMs: 10_000 };

  it('opens what it sealed, before it expires', () => {
    expect(openPendingLogin(key, sealPendingLogin(key, login), 9_999)).toEqual(login);
  });

  it('hides the verifier from the browser', () => {
    expect(Buffer.from(sealPendingLogin(key, login), 'base64url').toString('latin1')).not.toContain('v-1');
  });

  it('refuses an expired login', () => {
    expect(openPendingLogin(key, sealPendingLogin(key, login), 10_000)).toBeUndefined();
  });

  it('refuses a value sealed under another key', () => {
    expect(openPendingLogin(randomBytes(32), sealPendingLogin(key, login), 0)).toBeUndefined();
  });

  it('refuses an altered value', () => {
    const raw = Buffer.from(sealPendingLogin(key, login), 'base64url');
    raw[raw.length - 1] ^= 1;
    expect(openPendingLogin(key, raw.toString('base64url'), 0)).toBeUndefined();
  });

  it.each(['', 'abc', '!!!'])('refuses garbage %j', (sealed) => {
    expect(openPendingLogin(key, sealed, 0)).toBeUndefined();
  });
});

describe('readCookie', () => {
  it('finds a cookie among others', () => {
    expect(readCookie('a=1; baton_oidc=xyz=; b=2', 'baton_oidc')).toBe('xyz=');
  });

  it('gives undefined when absent', () => {
    expect(readCookie('a=1', 'baton_oidc')).toBeUndefined();
    expect(readCookie(undefined, 'baton_oidc')).toBeUndefined();
  });
});
