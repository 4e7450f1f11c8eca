/**
 * Every error leaves the API as JSON `{ statusCode, error, message, details? }`. HTTP exceptions keep their status;
 * anything else is a bug or a dependency failure: logged with its stack, answered 500 (or 503) without internals.
 * Message and details pass through `redact` (the secrets' masker), so an error never shows a secret value.
 */
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { QueryFailedError } from 'typeorm';

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
    response.status(body.statusCode).json(body);
  }

  private toApiError(exception: unknown): ApiError {
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
