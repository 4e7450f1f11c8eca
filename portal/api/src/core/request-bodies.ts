/**
 * What the portal takes as a request, before any route sees it: JSON bodies only, within a limit that fits the
 * route, nested no deeper than reason, holding only text PostgreSQL can store; URLs without NUL characters; and
 * requests Node's HTTP parser refuses answered in the API's JSON error shape too. Every refusal is a 4xx with a
 * message that says what to change (HttpErrorFilter answers them), never a 500 from deeper down.
 */
import { BadRequestException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { clientErrorAsHttpException } from './http-error.filter';

export interface BodyLimits {
  /** `BATON_BODY_LIMIT`: every route but the hook receivers. */
  api: string;
  /** `BATON_HOOK_BODY_LIMIT`: the hook receivers, whose senders post what they have (an Alertmanager group: megabytes). */
  hook: string;
  /** Paths (prefixes, lower case) of the hook receivers. */
  hookPaths: string[];
}

/** Deeper than any body the API takes; well short of what recursive code downstream (validation, audit) survives. */
export const MAX_BODY_DEPTH = 64;

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Registers the parsers and checks (call before the routes exist). A body in another content type is refused 415,
 * one whose Content-Length is over the limit 413, both before it is read; a chunked body 413 once the bytes read
 * pass the limit. Parser errors become HTTP exceptions right after the parsers: Nest would otherwise turn a JSON
 * syntax error into a bare 400 with V8's message, which quotes the body and often names no position.
 */
export function useRequestChecks(app: NestExpressApplication, limits: BodyLimits): void {
  const bytes = { hook: parseSize(limits.hook), api: parseSize(limits.api) };
  const isHookReceiver = (req: Request) => limits.hookPaths.some((prefix) => req.path.toLowerCase().startsWith(prefix));
  answerMalformedRequestsAsJson(app.getHttpServer());
  app.use(refuseNulInUrl);
  app.use((req: Request, res: Response, next: NextFunction) =>
    refuseUnwantedBody(req, res, next, isHookReceiver(req) ? bytes.hook : bytes.api),
  );
  app.useBodyParser('json', { limit: bytes.hook, type: (req) => isHookReceiver(req as Request) && isJson(req as Request) });
  app.useBodyParser('json', { limit: bytes.api, type: (req) => !isHookReceiver(req as Request) && isJson(req as Request) });
  app.use(refuseUnstorableBody);
  app.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => next(clientErrorAsHttpException(err) ?? err));
}

/**
 * Why a parsed JSON body cannot be taken, or undefined: nested deeper than MAX_BODY_DEPTH, or a string (value or
 * property name) with a NUL character or a lone UTF-16 surrogate, which PostgreSQL refuses in text and JSON columns.
 * Iterative, so that the check itself survives any depth.
 */
export function bodyProblem(body: unknown): string | undefined {
  interface Entry {
    value: unknown;
    depth: number;
    key?: string;
    parent?: Entry;
  }
  const pending: Entry[] = [{ value: body, depth: 0 }];
  while (pending.length > 0) {
    const entry = pending.pop()!;
    const { value, depth } = entry;
    if (typeof value === 'string') {
      const problem = unstorableText(value);
      if (problem) return `${pathOf(entry)} ${problem}`;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_BODY_DEPTH) return `${pathOf(entry)} is nested deeper than ${MAX_BODY_DEPTH} levels`;
    for (const [key, item] of Object.entries(value)) {
      const problem = unstorableText(key);
      if (problem) return `a property name in ${pathOf(entry)} ${problem}`;
      pending.push({ value: item, depth: depth + 1, key: Array.isArray(value) ? `[${key}]` : `.${key.slice(0, 40)}`, parent: entry });
    }
  }
  return undefined;

  function pathOf(entry: Entry): string {
    const keys: string[] = [];
    for (let e: Entry | undefined = entry; e?.key !== undefined; e = e.parent) keys.unshift(e.key);
    const path = `body${keys.join('')}`;
    return path.length > 120 ? `${path.slice(0, 60)}...${path.slice(-40)}` : path;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorableText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'holds a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'holds a lone UTF-16 surrogate (such as \\ud800), which is not Unicode text';
  return undefined;
}

function refuseNulInUrl(req: Request, _res: Response, next: NextFunction): void {
  if (req.url.includes('%00'))
    return next(new BadRequestException('the URL holds a NUL character (%00), which no name or value may contain'));
  next();
}

function refuseUnwantedBody(req: Request, res: Response, next: NextFunction, limitBytes: number): void {
  const length = Number(req.headers['content-length'] ?? 0);
  const hasContent = req.headers['transfer-encoding'] !== undefined || length > 0;
  if (!hasContent) return next();
  if (!isJson(req)) {
    const type = req.headers['content-type'] ?? 'none';
    return next(new UnsupportedMediaTypeException(`unsupported content type "${type}": request bodies are JSON (application/json)`));
  }
  if (length > limitBytes) {
    // Answered without reading the body; closing the connection keeps the rest of it from being read for nothing.
    res.setHeader('connection', 'close');
    return next(clientErrorAsHttpException({ status: 413, expose: true, type: 'entity.too.large', limit: limitBytes, length }));
  }
  next();
}

function refuseUnstorableBody(req: Request, _res: Response, next: NextFunction): void {
  const problem = req.body === undefined ? undefined : bodyProblem(req.body);
  next(problem ? new BadRequestException(problem) : undefined);
}

function isJson(req: Request): boolean {
  return Boolean(req.is(JSON_TYPES));
}

/**
 * Requests Node's HTTP parser refuses before Express sees them (a request line and headers over 16 kB, a malformed
 * request, a request that took too long to arrive) get the API's JSON error instead of Node's empty answer.
 */
function answerMalformedRequestsAsJson(server: {
  on(event: 'clientError', listener: (err: Error, socket: Duplex) => void): unknown;
}): void {
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'the request line and headers are larger than 16 kB']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'the request did not arrive in time']
          : [400, `malformed HTTP request (${err.code ?? err.message})`];
    const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], message });
    const head = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
    ];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  });
}

/** `100kb`, `5mb`, `512b` (the forms config.ts accepts) in bytes. */
export function parseSize(size: string): number {
  const [, amount, unit] = /^(\d+)(b|kb|mb)$/i.exec(size) ?? ['', size, 'b'];
  const factor = { b: 1, kb: 1024, mb: 1024 * 1024 }[unit.toLowerCase() as 'b' | 'kb' | 'mb'];
  return Number(amount) * factor;
}
