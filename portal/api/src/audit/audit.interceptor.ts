/**
 * Records every change made through the API, and every refused access, with its outcome. The record is awaited
 * before the response goes out: a client that saw its change succeed can rely on the change being in the log.
 *
 * Requests refused by a guard (401, 403, 429) never reach an interceptor; `AuditRefusalsMiddleware` records those
 * when their response finishes, naming the route the way this interceptor would.
 */
import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor, NestMiddleware } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { catchError, from, mergeMap, Observable, throwError } from 'rxjs';
import { AUDIT_ACTION, AuditActionMeta } from './audit-action.decorator';
import { AuditRouteNames } from './audit-route-names';
import { AuditService } from './audit.service';
import { AuditedRequest, describeRequest, errorMessageOf, isAudited, statusOf } from './http-audit';

/** Set on a request the interceptor has seen, so the middleware does not record it a second time. */
const SEEN_BY_INTERCEPTOR = Symbol('auditSeenByInterceptor');

type MarkedRequest = AuditedRequest & { [SEEN_BY_INTERCEPTOR]?: boolean };

@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger(AuditInterceptor.name);

  constructor(
    private readonly audit: AuditService,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<MarkedRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    request[SEEN_BY_INTERCEPTOR] = true;
    const meta = this.reflector.getAllAndOverride<AuditActionMeta | undefined>(AUDIT_ACTION, [context.getHandler(), context.getClass()]);
    return next.handle().pipe(
      catchError((error: unknown) => {
        const status = statusOf(error);
        // The request failed either way: a failure to record it is logged, the client gets the original error.
        const recorded = this.recordIfAudited(request, { status, error: errorMessageOf(error, status) }, meta).catch((err) =>
          this.logger.error({ err }, 'could not record a failed request in the audit log'),
        );
        return from(recorded).pipe(mergeMap(() => throwError(() => error)));
      }),
      // A change that succeeded but cannot be recorded answers with an error (503 when the database is down).
      mergeMap(async (value) => {
        await this.recordIfAudited(request, { status: response.statusCode }, meta);
        return value;
      }),
    );
  }

  private async recordIfAudited(request: AuditedRequest, outcome: { status: number; error?: string }, meta?: AuditActionMeta) {
    if (!isAudited(request, outcome.status)) return;
    await this.audit.record(describeRequest(request, outcome, meta));
  }
}

@Injectable()
export class AuditRefusalsMiddleware implements NestMiddleware {
  private readonly logger = new Logger(AuditRefusalsMiddleware.name);

  constructor(
    private readonly audit: AuditService,
    private readonly routeNames: AuditRouteNames,
  ) {}

  use(req: Request, res: Response, next: NextFunction): void {
    res.once('finish', () => {
      const request = req as unknown as MarkedRequest;
      // Only requests that matched a route: an unknown path changed nothing and refused nothing.
      if (request[SEEN_BY_INTERCEPTOR] || !request.route || !isAudited(request, res.statusCode)) return;
      const meta = this.routeNames.of(request.method, request.route.path);
      // Runs after the response, outside any request handling: a throw here would take the process down.
      Promise.resolve()
        .then(() => this.audit.record(describeRequest(request, { status: res.statusCode }, meta)))
        .catch((err) => this.logger.error({ err }, 'could not record a refused request in the audit log'));
    });
    next();
  }
}
