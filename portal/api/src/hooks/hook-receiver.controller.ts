/**
 * Where monitoring posts alerts. Public routes: the credential is the hook's own (a bearer token for Alertmanager,
 * an HMAC signature of the raw body for generic hooks), never a user's. A delivery is checked, stored and answered
 * 202; what it causes happens afterwards (DeliveryWorker). Refusals are answered 401 and audited like any request.
 */
import { BadRequestException, Controller, Headers, HttpCode, Param, Post, Req, type RawBodyRequest } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuditAction } from '../audit/audit-action.decorator';
import type { AuditedRequest } from '../audit/http-audit';
import { Public } from '../core/public.decorator';
import { alertmanagerPayloadProblem, genericPayloadProblem } from './alert-payload';
import { DeliveryWorker } from './delivery-worker.service';
import { DEFAULT_ALERTS_PATH, HooksService } from './hooks.service';

type HookRequest = RawBodyRequest<Request> & AuditedRequest;

/** The receivers' paths: their bodies may be as large as `BATON_HOOK_BODY_LIMIT` (app.ts), not the API's limit. */
export const HOOK_RECEIVER_PATHS = ['/api/v1/hooks/alertmanager/', '/api/v1/hooks/generic/'];

const received = { recordBody: false, target: (r: { params: Record<string, string> }) => `hook:${r.params.name}` };

@ApiTags('hooks')
@Controller('api/v1/hooks')
export class HookReceiverController {
  constructor(
    private readonly hooks: HooksService,
    private readonly worker: DeliveryWorker,
  ) {}

  /** Alertmanager's webhook receiver (payload version 4), with `http_config.authorization.credentials` = the token. */
  @Public()
  @AuditAction('hook.received', received)
  @Post('alertmanager/:name')
  @HttpCode(202)
  async alertmanager(@Param('name') name: string, @Headers('authorization') authorization: string | undefined, @Req() req: HookRequest) {
    const hook = await this.hooks.authenticateBearer(name, authorization);
    req.auditActor = { type: 'webhook', name: hook.name };
    const problem = alertmanagerPayloadProblem(req.body);
    if (problem) throw new BadRequestException(problem);
    return this.accept(hook.name, req);
  }

  /** Any JSON, signed: `X-Baton-Signature: sha256=<hex HMAC-SHA256 of the raw body with the hook's key>`. */
  @Public()
  @AuditAction('hook.received', received)
  @Post('generic/:name')
  @HttpCode(202)
  async generic(@Param('name') name: string, @Headers('x-baton-signature') signature: string | undefined, @Req() req: HookRequest) {
    const hook = await this.hooks.authenticateSignature(name, signature, req.rawBody);
    req.auditActor = { type: 'webhook', name: hook.name };
    const problem = genericPayloadProblem(req.body, hook.alertsPath ?? DEFAULT_ALERTS_PATH);
    if (problem) throw new BadRequestException(problem);
    return this.accept(hook.name, req);
  }

  private async accept(hook: string, req: HookRequest) {
    const id = await this.hooks.storeDelivery(hook, req.body, req.ip);
    this.worker.wake();
    return { delivery: id, status: 'accepted' };
  }
}
