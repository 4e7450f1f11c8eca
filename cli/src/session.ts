/**
 * Where `baton` finds the portal and its credentials: BATON_URL + BATON_TOKEN (an API token, for scripts), or the
 * session `baton login` stored in ~/.config/baton/config.json (mode 0600, refreshed when it runs out).
 */
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT } from './exit-codes';

/** What the config file holds. */
export interface StoredSession {
  url: string;
  user: string;
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  accessExpiresAt: number;
}

export type Credentials =
  { kind: 'token'; url: string; token: string } | { kind: 'session'; url: string; session: StoredSession; store: SessionStore };

/** The environment variables the CLI reads, read once in main. */
export interface CliEnv {
  BATON_URL?: string;
  BATON_TOKEN?: string;
  XDG_CONFIG_HOME?: string;
  HOME?: string;
  NO_COLOR?: string;
  RUNBOOKS_DIR?: string;
}

export const NOT_LOGGED_IN = 'not logged in: run `baton login --url URL --user NAME`, or set BATON_URL and BATON_TOKEN';

export function configPath(env: CliEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'baton', 'config.json');
}

export class SessionStore {
  constructor(readonly path: string) {}

  async read(): Promise<StoredSession | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const data = parseJson(text);
    if (!isStoredSession(data)) throw new CliError(`${this.path} is not a baton session: delete it and run \`baton login\``, EXIT.auth);
    return data;
  }

  /** Written whole to a temporary file and renamed over the old one, readable by its owner only. */
  async write(session: StoredSession): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const partial = `${this.path}.${process.pid}.tmp`;
    await writeFile(partial, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
    await rename(partial, this.path);
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }

  /**
   * Runs `fn` while holding a lock file beside the config: refresh tokens work once, so two `baton` processes
   * refreshing at the same moment would make the portal revoke the session. A lock older than 10 s is stale.
   */
  async locked<T>(fn: () => Promise<T>): Promise<T> {
    const lockPath = `${this.path}.lock`;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await (await open(lockPath, 'wx', 0o600)).close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = await stat(lockPath).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > 10_000 || Date.now() > deadline) await rm(lockPath, { force: true });
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lockPath, { force: true });
    }
  }
}

/** The credentials to use: an API token from the environment first, then the stored session. */
export async function resolveCredentials(env: CliEnv): Promise<Credentials> {
  const store = new SessionStore(configPath(env));
  if (env.BATON_TOKEN) {
    const url = env.BATON_URL ?? (await store.read())?.url;
    if (!url)
      throw new CliError(
        'BATON_TOKEN is set but BATON_URL is not: set BATON_URL to the portal, e.g. https://baton.example.com',
        EXIT.usage,
      );
    return { kind: 'token', url: normalizeUrl(url), token: env.BATON_TOKEN };
  }
  const session = await store.read();
  if (!session) throw new CliError(NOT_LOGGED_IN, EXIT.auth);
  return { kind: 'session', url: session.url, session, store };
}

/** `portal.example.com:3000/` -> `http://portal.example.com:3000`; refuses what is not a URL. */
export function normalizeUrl(text: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`not a URL: "${text}" (e.g. https://baton.example.com)`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`not an http(s) URL: "${text}"`, EXIT.usage);
  return url.toString().replace(/\/+$/, '');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isStoredSession(data: unknown): data is StoredSession {
  const s = data as StoredSession | undefined;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.url === 'string' &&
    typeof s.user === 'string' &&
    typeof s.accessToken === 'string' &&
    typeof s.refreshToken === 'string' &&
    typeof s.accessExpiresAt === 'number'
  );
}
