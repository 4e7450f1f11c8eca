/**
 * `/api/v1/agents`: admins list enrollment requests and accept, reject or revoke agents. Two routes are for agents
 * themselves, authenticated by their identity key's signature instead of a user: enroll, and the credentials
 * request they poll while pending and repeat to renew.
 */
import { BadRequestException, Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { enrollRequestSchema, type EnrollRequest } from '@baton/shared';
import { HTTP_SENT_AT_HEADER, HTTP_SIGNATURE_HEADER } from '@baton/shared/node';
import { AuditAction } from '../audit/audit-action.decorator';
import type { AuditActor } from '../audit/audit-event';
import type { Principal } from '../auth/auth.service';
import { CurrentUser } from '../auth/current-user.decorator';
import { RequirePermission } from '../auth/permissions';
import { Public } from '../core/public.decorator';
import { AgentsService, type AgentView } from './agents.service';
import { DecideAgentDto } from './dto/decide-agent.dto';

@ApiTags('agents')
@Controller('api/v1/agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @ApiBearerAuth()
  @RequirePermission('agents:manage')
  @Get()
  list(): Promise<AgentView[]> {
    return this.agents.list();
  }

  @AuditAction('agent.enroll', { target: (r) => `agent:${(r.body as { name?: string })?.name}` })
  @Public()
  @Post('enroll')
  async enroll(
    @Req() req: Request & { rawBody?: Buffer; auditActor?: AuditActor },
    @Headers(HTTP_SIGNATURE_HEADER) signature: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    // The audit record names the node that asked (its claim; the signature check follows).
    if (typeof (req.body as { name?: unknown })?.name === 'string')
      req.auditActor = { type: 'agent', name: String(req.body.name).slice(0, 63) };
    const request = parseEnrollRequest(req.body);
    const view = await this.agents.enroll(request, req.rawBody?.toString('utf8') ?? '', signature, req.ip);
    res.status(view.status === 'accepted' ? 201 : 202);
    return view;
  }

  @Public()
  @Get(':name/credentials')
  async credentials(
    @Param('name') name: string,
    @Headers(HTTP_SENT_AT_HEADER) sentAt: string | undefined,
    @Headers(HTTP_SIGNATURE_HEADER) signature: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const reply = await this.agents.credentials(name, Number(sentAt), signature, req.ip);
    if (reply.status === 'pending') res.status(202);
    return reply;
  }

  @ApiBearerAuth()
  @AuditAction('agent.accept')
  @RequirePermission('agents:manage')
  @Post(':name/accept')
  @HttpCode(200)
  accept(@Param('name') name: string, @Body() body: DecideAgentDto, @CurrentUser() user: Principal): Promise<AgentView> {
    return this.agents.decide(name, 'accept', user.username, body.reason);
  }

  @ApiBearerAuth()
  @AuditAction('agent.reject')
  @RequirePermission('agents:manage')
  @Post(':name/reject')
  @HttpCode(200)
  reject(@Param('name') name: string, @Body() body: DecideAgentDto, @CurrentUser() user: Principal): Promise<AgentView> {
    return this.agents.decide(name, 'reject', user.username, body.reason);
  }

  @ApiBearerAuth()
  @AuditAction('agent.revoke')
  @RequirePermission('agents:manage')
  @Post(':name/revoke')
  @HttpCode(200)
  revoke(@Param('name') name: string, @Body() body: DecideAgentDto, @CurrentUser() user: Principal): Promise<AgentView> {
    return this.agents.decide(name, 'revoke', user.username, body.reason);
  }

  @ApiBearerAuth()
  @AuditAction('agent.remove')
  @RequirePermission('agents:manage')
  @Delete(':name')
  @HttpCode(204)
  async remove(@Param('name') name: string): Promise<void> {
    await this.agents.remove(name);
  }
}

/** The enroll body checked with the protocol's own schema; the first problem names its field. */
function parseEnrollRequest(body: unknown): EnrollRequest {
  const parsed = enrollRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message }));
  throw new BadRequestException({ message: details.map((d) => `${d.field}: ${d.message}`).join('; '), details });
}
