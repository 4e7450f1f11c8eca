/**
 * Approving and rejecting runs that wait for approval, and the caller's inbox. Every signed-in reader may call these;
 * the runbook's approval policy (roles, users, four eyes) decides who may actually decide, with a 403 saying why.
 */
import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuditAction } from '../audit/audit-action.decorator';
import type { Principal } from '../auth/auth.service';
import { CurrentUser } from '../auth/current-user.decorator';
import { RequirePermission } from '../auth/permissions';
import { ApprovalsService } from './approvals.service';
import { DecideExecutionDto } from './dto/decide.dto';

@ApiTags('approvals')
@ApiBearerAuth()
@Controller('api/v1')
export class ApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  @RequirePermission('executions:read')
  @Get('approvals')
  pending(@CurrentUser() user: Principal) {
    return this.approvals.pendingFor(user);
  }

  @AuditAction('execution.approve')
  @RequirePermission('executions:read')
  @Post('executions/:id/approve')
  @HttpCode(200)
  approve(@Param('id', ParseUUIDPipe) id: string, @Body() body: DecideExecutionDto, @CurrentUser() user: Principal) {
    return this.approvals.decide(id, user, 'approved', body.comment);
  }

  @AuditAction('execution.reject')
  @RequirePermission('executions:read')
  @Post('executions/:id/reject')
  @HttpCode(200)
  reject(@Param('id', ParseUUIDPipe) id: string, @Body() body: DecideExecutionDto, @CurrentUser() user: Principal) {
    return this.approvals.decide(id, user, 'rejected', body.comment);
  }
}
