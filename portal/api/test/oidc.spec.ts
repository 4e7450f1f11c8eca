/**
 * Single sign-on against a real OpenID Connect provider (oidc-provider in its own process, see
 * fixtures/oidc-provider.mjs), driven the way a browser drives it: redirects, cookies, the provider's login and
 * consent forms, and back to the portal with an access token in the URL fragment.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestEnv, destroyTestEnv, Portal, sleep, startPortal, TestEnv } from './harness';

jest.setTimeout(60_000);

const CLIENT_ID = 'baton-portal';
const CLIENT_SECRET = 'baton-test-client-secret';
const CALLBACK_PATH = '/api/v1/auth/oidc/callback';

/** The provider's accounts: login -> claims. Any password signs in (the library's development login page). */
const ACCOUNTS = {
  alice: { preferred_username: 'alice', name: 'Alice', groups: ['web-team', 'marketing'] },
  bob: { preferred_username: 'bob', groups: ['sre'] },
  'svc-7': { groups: ['sre'] },
  carol: { preferred_username: 'carol', groups: ['marketing'] },
  mallory: { preferred_username: 'admin', groups: ['sre'] },
};

describe('OpenID Connect single sign-on', () => {
  let env: TestEnv;
  let portal: Portal;
  let provider: ProviderProcess;

  beforeAll(async () => {
    env = await createTestEnv();
    const [portalPort, providerPort] = [await freePort(), await freePort()];
    // The portal starts first, while the provider is still down: sign-on must not stop the portal from starting.
    portal = await startPortal(env, {
      PORT: String(portalPort),
      BATON_OIDC_ISSUER: `http://127.0.0.1:${providerPort}`,
      BATON_OIDC_CLIENT_ID: CLIENT_ID,
      BATON_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      BATON_OIDC_SCOPES: 'openid profile groups',
      BATON_OIDC_ROLES_CLAIM: 'groups',
      BATON_OIDC_ROLE_MAP: JSON.stringify({ sre: 'admin', 'web-team': 'operator:web' }),
      BATON_OIDC_REDIRECT_URL: `http://127.0.0.1:${portalPort}${CALLBACK_PATH}`,
      // The refusals tested below are logged as warnings by design; keep the test output for real failures.
      BATON_LOG_LEVEL: 'error',
    });
    provider = await ProviderProcess.start(providerPort, `${portal.url}${CALLBACK_PATH}`);
  });

  afterAll(async () => {
    await provider?.stop();
    await portal?.close();
    if (env) await destroyTestEnv(env);
  });

  it('tells the UI that single sign-on is offered', async () => {
    const res = await fetch(`${portal.url}/api/v1/auth/providers`);
    expect(await res.json()).toEqual({ local: true, oidc: { enabled: true, loginUrl: '/api/v1/auth/oidc/login' } });
  });

  /** Signs in through the provider's pages; ends where the portal sends the browser (or stops before `stopAt`). */
  async function signIn(browser: Browser, login: string, stopAt?: (url: string) => boolean) {
    const loginPage = await browser.open(`${portal.url}/api/v1/auth/oidc/login`);
    expect(loginPage.url).toContain(`${provider.issuer}/interaction/`);
    const consentPage = await browser.submit(loginPage, { prompt: 'login', login, password: 'any password' });
    expect(consentPage.text).toContain('Authorize');
    return browser.submit(consentPage, { prompt: 'consent' }, stopAt);
  }

  function tokenIn(url: string): string {
    const token = new URLSearchParams(new URL(url).hash.slice(1)).get('accessToken');
    if (!token) throw new Error(`no access token in ${url}`);
    return token;
  }

  async function me(token: string) {
    const res = await fetch(`${portal.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: await res.json() };
  }

  it('signs a user in and grants the roles its groups map to', async () => {
    const landing = await signIn(new Browser(), 'alice');
    expect(new URL(landing.url).pathname).toBe('/');
    const token = tokenIn(landing.url);
    expect(await me(token)).toEqual({ status: 200, body: { username: 'alice', roles: [{ role: 'operator', namespace: 'web' }] } });
  });

  it('gives a working access token for the routes the user may use', async () => {
    const token = tokenIn((await signIn(new Browser(), 'alice')).url);
    const res = await fetch(`${portal.url}/api/v1/runbooks`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  });

  it('records the user as a single sign-on user (no password) with the mapped roles', async () => {
    await signIn(new Browser(), 'bob');
    const db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    const { rows } = await db.query(`SELECT password_hash, roles FROM users WHERE username = 'bob'`);
    await db.end();
    expect(rows).toEqual([{ password_hash: '', roles: [{ role: 'admin' }] }]);
  });

  it('names a user without a username claim by its subject', async () => {
    const token = tokenIn((await signIn(new Browser(), 'svc-7')).url);
    expect((await me(token)).body).toEqual({ username: 'svc-7', roles: [{ role: 'admin' }] });
  });

  it('refuses a user whose groups map to no role, with a page saying why', async () => {
    const refused = await signIn(new Browser(), 'carol');
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('carol has no role in Baton');
  });

  it('never lets single sign-on take over a local user of the same name', async () => {
    const refused = await signIn(new Browser(), 'mallory');
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('a local (password) user named &#34;admin&#34; already exists');
    expect((await portal.request('GET', '/api/v1/auth/me')).body).toEqual({ username: 'admin', roles: [{ role: 'admin' }] });
  });

  const isCallback = (url: string) => url.startsWith(`${portal.url}${CALLBACK_PATH}`);

  it('refuses a callback whose state was tampered with', async () => {
    const browser = new Browser();
    const callback = await signIn(browser, 'alice', isCallback);
    const tampered = new URL(callback.url);
    tampered.searchParams.set('state', 'forged-state');
    const refused = await browser.open(tampered.href);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('the state parameter does not match');
  });

  it('refuses a callback in a browser that did not start the sign-in (login CSRF), as JSON for scripts', async () => {
    const callback = await signIn(new Browser(), 'alice', isCallback);
    const res = await fetch(callback.url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ statusCode: 400, message: expect.stringContaining('no sign-in in progress in this browser') });
  });

  it('accepts each sign-in once', async () => {
    const browser = new Browser();
    const callback = await signIn(browser, 'alice', isCallback);
    expect((await browser.open(callback.url)).url).toContain('#accessToken=');
    expect((await browser.open(callback.url)).status).toBe(400);
  });

  it('relays a refusal by the identity provider', async () => {
    const browser = new Browser();
    const loginPage = await browser.open(`${portal.url}/api/v1/auth/oidc/login`);
    const abortUrl = new URL(loginPage.url);
    abortUrl.pathname += '/abort';
    const refused = await browser.open(abortUrl.href);
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('the identity provider refused the sign-in: access_denied');
  });
});

describe('without single sign-on configured', () => {
  let env: TestEnv;
  let portal: Portal;

  beforeAll(async () => {
    env = await createTestEnv();
    portal = await startPortal(env);
  });

  afterAll(async () => {
    await portal?.close();
    if (env) await destroyTestEnv(env);
  });

  it('offers only local sign-in', async () => {
    const res = await fetch(`${portal.url}/api/v1/auth/providers`);
    expect(await res.json()).toEqual({ local: true, oidc: { enabled: false, loginUrl: null } });
  });

  it('answers 404 on the sign-on routes, saying so', async () => {
    for (const route of ['login', 'callback']) {
      const res = await fetch(`${portal.url}/api/v1/auth/oidc/${route}`, { redirect: 'manual' });
      expect(res.status).toBe(404);
      expect((await res.json()).message).toBe('single sign-on is not configured on this portal (BATON_OIDC_ISSUER is unset)');
    }
  });
});

/** A browser, as far as sign-in needs one: follows redirects, keeps cookies, submits forms. */
class Browser {
  /** Cookies by name and path; all servers here are on 127.0.0.1, and cookies do not tell ports apart. */
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  /** Opens a URL and follows redirects until a page answers, or until `stopAt` says the next URL is not to be opened. */
  async open(url: string, init: { method?: string; form?: Record<string, string> } = {}, stopAt?: (url: string) => boolean) {
    let current = url;
    let request = init;
    for (let hops = 0; hops < 20; hops++) {
      const res = await fetch(current, {
        method: request.method ?? 'GET',
        redirect: 'manual',
        headers: {
          accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
          cookie: this.cookieHeader(new URL(current).pathname),
          ...(request.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: request.form ? new URLSearchParams(request.form).toString() : undefined,
      });
      this.store(res);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { url: current, status: res.status, text: await res.text() };
      await res.body?.cancel();
      current = new URL(location, current).href;
      request = {};
      if (stopAt?.(current)) return { url: current, status: res.status, text: '' };
    }
    throw new Error(`too many redirects, last ${current}`);
  }

  /** Submits the page's (only) form with these fields, as a person pressing its button would. */
  async submit(page: { url: string; text: string }, form: Record<string, string>, stopAt?: (url: string) => boolean) {
    const action = /<form[^>]*action="([^"]+)"/.exec(page.text)?.[1];
    if (!action) throw new Error(`no form on ${page.url}: ${page.text.slice(0, 500)}`);
    return this.open(new URL(action.replace(/&amp;/g, '&'), page.url).href, { method: 'POST', form }, stopAt);
  }

  private cookieHeader(path: string): string {
    return [...this.cookies.values()]
      .filter((c) => path.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const attribute = (key: string) => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const path = attribute('path') ?? '/';
      const expires = attribute('expires');
      const isDeleted = attribute('max-age') === '0' || (expires !== undefined && Date.parse(expires) <= Date.now());
      if (isDeleted) this.cookies.delete(`${name};${path}`);
      else this.cookies.set(`${name};${path}`, { name, value: pair.slice(at + 1), path });
    }
  }
}

/** The OpenID Connect provider in its own process, as an operator's identity provider would be. */
class ProviderProcess {
  output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly issuer: string,
  ) {
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
  }

  static async start(port: number, redirectUri: string): Promise<ProviderProcess> {
    const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'oidc-provider.mjs')], {
      env: {
        PATH: process.env.PATH,
        OIDC_PORT: String(port),
        OIDC_CLIENT_ID: CLIENT_ID,
        OIDC_CLIENT_SECRET: CLIENT_SECRET,
        OIDC_REDIRECT_URI: redirectUri,
        OIDC_ACCOUNTS: JSON.stringify(ACCOUNTS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const provider = new ProviderProcess(child, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + 15_000;
    while (!provider.output.includes('ready ')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`OIDC provider did not start: ${provider.output}`);
      await sleep(50);
    }
    return provider;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    const killTimer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    this.child.kill('SIGTERM');
    await exited;
    clearTimeout(killTimer);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
