/**
 * `/api/v1/alert-rules`: who may change runbooks in a namespace may change the rules there (the rule's own namespace
 * and the namespaces of the runbooks it runs); readers see the rules of namespaces they may read. Resetting a tripped
 * circuit breaker is an admin's decision (`hooks:write`).
 */
import { Body, Controller, Delete, ForbiddenException, Get, HttpCode, NotFoundException, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { AlertRule } from '@baton/shared';
import { AuditAction } from '../audit/audit-action.decorator';
import { CurrentUser } from '../auth/current-user.decorator';
import { can, namespaceOf, RequirePermission, type Principal } from '../auth/permissions';
import { AlertRulesService, type AlertRuleView } from './alert-rules.service';
import { RemediationService } from './remediation.service';

const ruleTarget = (r: { params: Record<string, string>; body: unknown }) =>
  `alert-rule:${r.params.id ?? (r.body as { id?: string } | undefined)?.id}`;

@ApiTags('alert-rules')
@ApiBearerAuth()
@Controller('api/v1/alert-rules')
export class AlertRulesController {
  constructor(
    private readonly rules: AlertRulesService,
    private readonly remediation: RemediationService,
  ) {}

  @RequirePermission('runbooks:read')
  @Get()
  async list(@CurrentUser() user: Principal): Promise<AlertRuleView[]> {
    return (await this.rules.list()).filter((rule) => can(user, 'runbooks:read', namespaceOf(rule.id)));
  }

  @RequirePermission('runbooks:read')
  @Get(':id')
  async get(@Param('id') id: string, @CurrentUser() user: Principal): Promise<AlertRuleView> {
    if (!can(user, 'runbooks:read', namespaceOf(id))) throw new NotFoundException(`alert rule "${id}" not found`);
    return this.rules.get(id);
  }

  @RequirePermission('runbooks:write')
  @AuditAction('alert.rule.create', { target: ruleTarget })
  @Post()
  async create(@Body() body: Record<string, unknown>, @CurrentUser() user: Principal): Promise<AlertRuleView> {
    const rule = await this.rules.validate(body);
    this.checkWrite(user, rule);
    return this.rules.create(rule, user.username);
  }

  @RequirePermission('runbooks:write')
  @AuditAction('alert.rule.update', { target: ruleTarget })
  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: Record<string, unknown>, @CurrentUser() user: Principal): Promise<AlertRuleView> {
    this.checkWrite(user, await this.rules.get(id));
    const changed = await this.rules.withChanges(id, body);
    this.checkWrite(user, changed);
    return this.rules.replace(changed, user.username);
  }

  @RequirePermission('runbooks:write')
  @AuditAction('alert.rule.delete', { target: ruleTarget })
  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string, @CurrentUser() user: Principal): Promise<void> {
    this.checkWrite(user, await this.rules.get(id));
    await this.rules.remove(id);
  }

  @RequirePermission('hooks:write')
  @AuditAction('alert.rule.reset', { target: ruleTarget })
  @Post(':id/reset')
  @HttpCode(200)
  async reset(@Param('id') id: string): Promise<AlertRuleView> {
    const rule = await this.rules.resetBreaker(id);
    this.remediation.markBreakerClosed(id);
    return rule;
  }

  /** A rule starts runbooks without a person: its author must be allowed to change every namespace it touches. */
  private checkWrite(user: Principal, rule: Pick<AlertRule, 'id' | 'runbook' | 'action' | 'onResolved'>): void {
    const resolved = rule.onResolved && 'runbook' in rule.onResolved ? rule.onResolved.runbook : rule.onResolved?.action.pool;
    const namespaces = new Set([rule.id, rule.runbook, rule.action?.pool, resolved].filter((id) => id !== undefined).map(namespaceOf));
    for (const namespace of namespaces) {
      if (!can(user, 'runbooks:write', namespace))
        throw new ForbiddenException(`your roles do not grant "runbooks:write" in namespace "${namespace}"`);
    }
  }
}
