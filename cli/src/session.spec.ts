import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configPath, normalizeUrl, resolveCredentials, SessionStore } from './session';

describe('the stored session', () => {
  let home: string;

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'baton-home-'));
  });

  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const session = { url: 'http://127.0.0.1:3000', user: 'alice', accessToken: 'a', refreshToken: 'r', accessExpiresAt: 1 };

  it('lives in ~/.config/baton/config.json (or under XDG_CONFIG_HOME), readable by its owner only', async () => {
    expect(configPath({ HOME: home })).toBe(join(home, '.config', 'baton', 'config.json'));
    expect(configPath({ HOME: home, XDG_CONFIG_HOME: join(home, 'xdg') })).toBe(join(home, 'xdg', 'baton', 'config.json'));
    const store = new SessionStore(configPath({ HOME: home }));
    await store.write(session);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, '.config', 'baton')).mode & 0o777).toBe(0o700);
    expect(await store.read()).toEqual(session);
  });

  it('prefers BATON_URL and BATON_TOKEN from the environment', async () => {
    await new SessionStore(configPath({ HOME: home })).write(session);
    const credentials = await resolveCredentials({ HOME: home, BATON_URL: 'https://baton.example.com/', BATON_TOKEN: 'bt_x' });
    expect(credentials).toEqual({ kind: 'token', url: 'https://baton.example.com', token: 'bt_x' });
  });

  it('says how to log in when there is no session', async () => {
    await expect(resolveCredentials({ HOME: home })).rejects.toMatchObject({
      exitCode: 7,
      message: expect.stringContaining('not logged in: run `baton login'),
    });
  });

  it('runs one holder of the lock at a time', async () => {
    const store = new SessionStore(configPath({ HOME: home }));
    const order: string[] = [];
    const hold = (name: string) =>
      store.locked(async () => {
        order.push(`${name} in`);
        await new Promise((resolve) => setTimeout(resolve, 30));
        order.push(`${name} out`);
      });
    await Promise.all([hold('a'), hold('b')]);
    const first = order[0].split(' ')[0];
    const second = first === 'a' ? 'b' : 'a';
    expect(order).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
  });

  it('normalizes portal URLs', () => {
    expect(normalizeUrl('localhost:3000/')).toBe('http://localhost:3000');
    expect(() => normalizeUrl('ftp://x')).toThrow('not an http(s) URL');
  });
});
