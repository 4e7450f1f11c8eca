import { Body, Controller, ForbiddenException, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/current-user.decorator';
import { can, canRunRunbook, namespaceOf, RequirePermission, type Principal } from '../auth/permissions';
import { ExecutionsService } from '../executions/executions.service';
import { RunbooksService } from '../runbooks/runbooks.service';
import { DispatchService } from './dispatch.service';
import { StartExecutionDto } from './dto/start-execution.dto';
import { AuditAction } from '../audit/audit-action.decorator';

@ApiTags('executions')
@ApiBearerAuth()
@Controller('api/v1')
export class RunController {
  constructor(
    private readonly dispatch: DispatchService,
    private readonly runbooks: RunbooksService,
    private readonly executions: ExecutionsService,
  ) {}

  /** Runs a runbook the caller may run: hidden runbooks are 404, visible ones the caller may not run are 403. */
  @RequirePermission('runbooks:run')
  // The body may hold secret parameters: the execution.started event records the parameters, redacted, instead.
  @AuditAction('execution.request', { recordBody: false })
  @Post('runbooks/:id/executions')
  async start(@Param('id') runbookId: string, @Body() body: StartExecutionDto, @CurrentUser() user: Principal) {
    const runbook = await this.runbooks.getVisible(runbookId, user);
    if (!canRunRunbook(user, runbook.content)) throw new ForbiddenException(`you may not run runbook "${runbookId}"`);
    const execution = await this.dispatch.start({
      runbookId,
      params: body.params ?? {},
      targets: body.targets,
      trigger: user.tokenId ? { type: 'token', token: user.tokenId, user: user.username } : { type: 'user', user: user.username },
      actor: user.username,
    });
    return { id: execution.id, status: execution.status };
  }

  /** Operators cancel their own runs; admins (and whoever holds executions:cancel-any) anyone's. */
  @RequirePermission('executions:cancel-own')
  @AuditAction('execution.cancel')
  @Post('executions/:id/cancel')
  @HttpCode(202)
  async cancel(@Param('id', ParseUUIDPipe) id: string, @CurrentUser() user: Principal) {
    const target = await this.executions.get(id);
    if (!(await this.runbooks.isVisible(target.runbookId, target.runbookHash, user)))
      throw new NotFoundException(`execution "${id}" not found`);
    const namespace = namespaceOf(target.runbookId);
    const isOwn = target.actor === user.username && can(user, 'executions:cancel-own', namespace);
    if (!isOwn && !can(user, 'executions:cancel-any', namespace)) {
      throw new ForbiddenException(`you may cancel only your own executions; this one was started by ${target.actor}`);
    }
    const execution = await this.dispatch.cancel(id, `cancelled by ${user.username}`);
    return { id: execution.id, status: execution.status };
  }
}
