/**
 * Every error leaves the API as JSON `{ statusCode, error, message, details? }`. HTTP exceptions keep their status;
 * so do the client errors raised before a handler runs (body parser, router): too large 413 with the limit,
 * unsupported charset or encoding 415, malformed JSON 400 with the position. Anything else is a bug or a dependency
 * failure: logged with its stack, answered 500 (or 503) without internals.
 * Message and details pass through `redact` (the secrets' masker), so an error never shows a secret value.
 */
import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  PayloadTooLargeException,
} from '@nestjs/common';
import type { Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { locateJsonSyntaxError } from './json-syntax';

export interface ApiError {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown;
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  constructor(private readonly redact: (text: string) => string = (text) => text) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = redactDeep(this.toApiError(exception), this.redact);
    if (response.headersSent) {
      response.end();
      return;
    }
    // A 429 says when to come back (the dispatch queue estimates it from its drain rate).
    const retryAfter = (body.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (body.statusCode === 429 && typeof retryAfter === 'number') response.setHeader('Retry-After', String(retryAfter));
    response.status(body.statusCode).json(body);
  }

  private toApiError(error: unknown): ApiError {
    const exception = clientErrorAsHttpException(error) ?? error;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const raw = exception.getResponse();
      const payload = typeof raw === 'string' ? { message: raw } : (raw as Record<string, unknown>);
      const message = Array.isArray(payload.message) ? payload.message.join('; ') : String(payload.message ?? exception.message);
      const details = payload.details ?? (Array.isArray(payload.message) ? payload.message : undefined);
      return { statusCode: status, error: statusName(status), message, ...(details ? { details } : {}) };
    }
    if (isConnectionError(exception)) {
      this.logger.error({ err: exception }, 'database unavailable');
      return { statusCode: 503, error: statusName(503), message: 'database unavailable, try again shortly' };
    }
    this.logger.error({ err: exception }, 'unhandled error');
    return { statusCode: 500, error: statusName(500), message: 'internal error (logged on the portal)' };
  }
}

/** Every string inside the error body, redacted (details may nest field errors with messages). */
function redactDeep<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redact)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item, redact)])) as T;
  }
  return value;
}

/**
 * Errors of the http-errors kind (body-parser, raw-body, the router) carry a 4xx `status` and `expose: true`; their
 * `type` says which. A 5xx of that kind is a fault of ours and stays a 500.
 */
interface ExposedError {
  status: number;
  expose: boolean;
  message: string;
  type?: string;
  limit?: number;
  length?: number;
  body?: unknown;
}

/**
 * A client error raised before any handler ran, as the HTTP exception it stands for: too large 413 naming the limit,
 * malformed JSON 400 naming the position (never quoting the body), any other 4xx with its own status and message.
 * Also used by the error middleware right after the body parsers (app.ts): Nest turns a JSON SyntaxError into a bare
 * 400 with V8's message before a filter sees it, losing the body this needs to find the position.
 */
export function clientErrorAsHttpException(exception: unknown): HttpException | undefined {
  if (exception instanceof HttpException) return undefined;
  const error = exception as Partial<ExposedError> | undefined;
  if (typeof error?.status !== 'number' || error.expose !== true || error.status < 400 || error.status > 499) return undefined;
  if (error.type === 'entity.too.large') {
    const limit = formatBytes(error.limit ?? 0);
    return new PayloadTooLargeException({
      message: `request body is larger than ${limit}, the limit for this route`,
      details: { limitBytes: error.limit, ...(error.length ? { lengthBytes: error.length } : {}) },
    });
  }
  const found = error.type === 'entity.parse.failed' && typeof error.body === 'string' ? locateJsonSyntaxError(error.body) : undefined;
  if (found) {
    const { position, line, column, reason } = found;
    const message = `malformed JSON at position ${position} (line ${line}, column ${column}): ${reason}`;
    return new BadRequestException({ message, details: { position, line, column } });
  }
  return new HttpException({ message: String(error.message ?? statusName(error.status)) }, error.status);
}

/** 102400 -> `100kb`, as BATON_BODY_LIMIT is written. */
function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}mb`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}kb`;
  return `${bytes}b`;
}

function statusName(status: number): string {
  const name = HttpStatus[status];
  return name
    ? name
        .toLowerCase()
        .split('_')
        .map((w) => w[0].toUpperCase() + w.slice(1))
        .join(' ')
    : 'Error';
}

function isConnectionError(error: unknown): boolean {
  if (error instanceof QueryFailedError) return false;
  const code = (error as { code?: string })?.code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === '57P01' || /Connection terminated/.test(String(error));
}
