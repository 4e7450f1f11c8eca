/**
 * The portal's HTTP API faked at the network edge, for component specs: the real Api client runs (bearer token, the
 * API's error body `{ statusCode, error, message }` turned into the ApiError a page shows), and only `fetch` is fake.
 * jsdom has no fetch; `install()` gives it one that answers from the routes a spec declares and records every
 * request, so a spec asserts both what was sent and what the person sees. A request no route answers gets a 404 and
 * is listed in `unanswered`, which a spec expects to stay empty.
 */

export interface SentRequest {
  method: string;
  /** As the browser sent it, with `/api/v1` and any query string. */
  path: string;
  body: unknown;
  headers: Record<string, string>;
}

export interface Reply {
  status: number;
  body?: unknown;
}

export type Route = (request: SentRequest) => Reply | Promise<Reply>;

/** 200 with a JSON body. */
export function ok(body: unknown): Reply {
  return { status: 200, body };
}

/** An error as the API answers it. */
export function apiError(statusCode: number, error: string, message: string): Reply {
  return { status: statusCode, body: { statusCode, error, message } };
}

export class FakePortal {
  readonly sent: SentRequest[] = [];
  readonly unanswered: string[] = [];
  private readonly routes = new Map<string, Route>();

  /** Answers `METHOD /api/v1/...` with a fixed reply or a function of the request (for state that changes). */
  on(method: string, path: string, reply: Reply | Route): this {
    this.routes.set(`${method} ${path}`, typeof reply === 'function' ? reply : () => reply);
    return this;
  }

  /** Puts the fake fetch in place; call the returned function to take it away again. */
  install(): () => void {
    const global = globalThis as { fetch?: typeof fetch };
    const previous = global.fetch;
    global.fetch = ((input: string, init?: RequestInit) => this.answer(input, init)) as typeof fetch;
    return () => {
      global.fetch = previous;
    };
  }

  /** The requests sent as `METHOD /path`, in order. */
  requestLines(): string[] {
    return this.sent.map((r) => `${r.method} ${r.path}`);
  }

  private async answer(url: string, init: RequestInit = {}): Promise<Response> {
    const method = init.method ?? 'GET';
    const { pathname, search } = new URL(url, 'http://localhost');
    const path = pathname + search;
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    const request: SentRequest = { method, path, body, headers: { ...(init.headers as Record<string, string>) } };
    this.sent.push(request);
    const route = this.routes.get(`${method} ${path}`);
    if (!route) {
      this.unanswered.push(`${method} ${path}`);
      return fakeResponse(apiError(404, 'Not Found', `the fake portal has no route for ${method} ${path}`));
    }
    return fakeResponse(await route(request));
  }
}

/** The parts of a fetch Response the Api client reads. */
function fakeResponse(reply: Reply): Response {
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  const response = {
    ok: reply.status >= 200 && reply.status < 300,
    status: reply.status,
    statusText: '',
    headers: new Headers(text ? { 'content-type': 'application/json' } : {}),
    json: async () => JSON.parse(text),
    text: async () => text,
  };
  return response as unknown as Response;
}
