/**
 * Every error leaves the API as JSON `{ statusCode, error, message, details? }`. HTTP exceptions keep their status;
 * anything else is a bug or a dependency failure: logged with its stack, answered 500 (or 503) without internals.
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

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toApiError(exception);
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
