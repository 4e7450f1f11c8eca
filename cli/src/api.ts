/**
 * The CLI's HTTP client for the portal: bearer credentials, a session refreshed before it runs out (or once
 * after a 401), and API errors turned into messages that say what to do and exit codes scripts can test.
 */
import type { ApiErrorBody, Session } from './api-types';
import { CliError, EXIT, type ExitCode } from './exit-codes';
import type { Credentials, SessionStore, StoredSession } from './session';
import { serverSentEvents, type ServerSentEvent } from './sse';

/** Refresh this long before the access token expires, so a request never carries one that runs out on the way. */
const REFRESH_MARGIN_MS = 30_000;

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  accept?: string;
  signal?: AbortSignal;
}

export class ApiClient {
  constructor(private readonly credentials: Credentials) {}

  get url(): string {
    return this.credentials.url;
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, path, options);
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.json<T>('GET', path, { query });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.json<T>('POST', path, { body });
  }

  /** Server-sent events of a route, until the server ends the stream (or `signal` aborts it). */
  async *events(path: string, query: RequestOptions['query'], signal?: AbortSignal): AsyncGenerator<ServerSentEvent> {
    const response = await this.request('GET', path, { query, accept: 'text/event-stream', signal });
    if (!response.body) return;
    yield* serverSentEvents(response.body);
  }

  /** A successful response, or a CliError. A session gets one refresh and retry after a 401. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    if (this.credentials.kind === 'session' && isExpiring(this.credentials.session)) await this.refresh();
    let response = await this.send(method, path, options);
    if (response.status === 401 && this.credentials.kind === 'session') {
      await this.refresh(true);
      response = await this.send(method, path, options);
    }
    if (!response.ok) throw await apiError(response, this.credentials);
    return response;
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.bearer()}`, accept: options.accept ?? 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    return sendRequest(this.credentials.url, method, path, {
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      query: options.query,
      signal: options.signal,
    });
  }

  private bearer(): string {
    return this.credentials.kind === 'token' ? this.credentials.token : this.credentials.session.accessToken;
  }

  /** Trades the refresh token for a new session, under the config file's lock; another process may have done it already. */
  private async refresh(isForced = false): Promise<void> {
    if (this.credentials.kind !== 'session') return;
    const credentials = this.credentials;
    await credentials.store.locked(async () => {
      const stored = await credentials.store.read();
      const isRefreshedElsewhere = stored && stored.refreshToken !== credentials.session.refreshToken && !isExpiring(stored);
      if (isRefreshedElsewhere) {
        credentials.session = stored;
        return;
      }
      if (!isForced && !isExpiring(credentials.session)) return;
      credentials.session = await refreshSession(credentials.session, credentials.store);
    });
  }
}

/** Password login: the session `baton login` stores. */
export async function login(url: string, username: string, password: string): Promise<StoredSession> {
  const response = await sendRequest(url, 'POST', '/api/v1/auth/login', {
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (response.status === 401) throw new CliError(`login refused: wrong user name or password for ${username} at ${url}`, EXIT.auth);
  if (!response.ok) throw await apiError(response, undefined);
  return toStored(url, username, (await response.json()) as Session);
}

/** Ends the session on the portal (its refresh token stops working). */
export async function logout(session: StoredSession): Promise<void> {
  await sendRequest(session.url, 'POST', '/api/v1/auth/logout', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken: session.refreshToken }),
  });
}

async function refreshSession(session: StoredSession, store: SessionStore): Promise<StoredSession> {
  const response = await sendRequest(session.url, 'POST', '/api/v1/auth/refresh', {
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ refreshToken: session.refreshToken }),
  });
  if (response.status === 401) {
    throw new CliError(`session expired: run \`baton login --url ${session.url} --user ${session.user}\``, EXIT.auth);
  }
  if (!response.ok) throw await apiError(response, undefined);
  const next = toStored(session.url, session.user, (await response.json()) as Session);
  await store.write(next);
  return next;
}

function toStored(url: string, user: string, session: Session): StoredSession {
  return {
    url,
    user,
    accessToken: session.accessToken,
    refreshToken: session.refreshToken,
    accessExpiresAt: Date.now() + session.expiresIn * 1000,
  };
}

function isExpiring(session: StoredSession): boolean {
  return session.accessExpiresAt - REFRESH_MARGIN_MS <= Date.now();
}

async function sendRequest(
  baseUrl: string,
  method: string,
  path: string,
  init: { headers: Record<string, string>; body?: string; query?: RequestOptions['query']; signal?: AbortSignal },
): Promise<Response> {
  const url = new URL(path, `${baseUrl}/`);
  for (const [key, value] of Object.entries(init.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
  try {
    return await fetch(url, { method, headers: { 'user-agent': 'baton-cli', ...init.headers }, body: init.body, signal: init.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new CliError(
      `cannot reach the portal at ${baseUrl} (${why}): is it running? Check BATON_URL or \`baton login --url\``,
      EXIT.unavailable,
    );
  }
}

/** The API's error as a CliError: its own message, what to do about it, and the exit code for its kind. */
export async function apiError(response: Response, credentials: Credentials | undefined): Promise<CliError> {
  const body = await response.text();
  const message = errorMessage(body) ?? (body.trim().slice(0, 200) || response.statusText);
  const status = response.status;
  const said = (code: ExitCode, text: string) => new CliError(text, code, status);
  if (status === 401) {
    if (credentials?.kind === 'token') return said(EXIT.auth, `the portal refused BATON_TOKEN (401 ${message}): create a new API token`);
    return said(EXIT.auth, `session expired (401): run \`baton login\``);
  }
  if (status === 403) return said(EXIT.auth, `not allowed (403): ${message}`);
  if (status === 429) {
    const retryAfter = response.headers.get('retry-after');
    const advice = /retry|try again/i.test(message) ? '' : `; try again ${retryAfter ? `in ${retryAfter} s` : 'later'}`;
    return said(EXIT.busy, `the portal is busy (429 Too Many Requests): ${message}${advice}`);
  }
  if (status === 409) return said(EXIT.busy, `conflict (409): ${message}`);
  if (status >= 500) return said(EXIT.unavailable, `the portal failed (${status}): ${message}`);
  return said(EXIT.usage, `${message} (${status})`);
}

function errorMessage(text: string): string | undefined {
  let body: ApiErrorBody;
  try {
    body = JSON.parse(text) as ApiErrorBody;
  } catch {
    return undefined;
  }
  if (Array.isArray(body.message)) return body.message.join('; ');
  return body.message ?? body.error;
}
