/** `/api/v1/enrollment-tokens`: admins create (shown once), list and revoke the tokens agents enroll with. */
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuditAction } from '../audit/audit-action.decorator';
import type { Principal } from '../auth/auth.service';
import { CurrentUser } from '../auth/current-user.decorator';
import { RequirePermission } from '../auth/permissions';
import { CreateEnrollmentTokenDto } from './dto/create-enrollment-token.dto';
import { EnrollmentTokensService, type EnrollmentTokenView } from './enrollment-tokens.service';

@ApiTags('agents')
@ApiBearerAuth()
@Controller('api/v1/enrollment-tokens')
export class EnrollmentTokensController {
  constructor(private readonly tokens: EnrollmentTokensService) {}

  @RequirePermission('agents:manage')
  @Get()
  list(): Promise<EnrollmentTokenView[]> {
    return this.tokens.list();
  }

  @AuditAction('enrollment-token.create')
  @RequirePermission('agents:manage')
  @Post()
  create(@Body() body: CreateEnrollmentTokenDto, @CurrentUser() user: Principal): Promise<EnrollmentTokenView & { token: string }> {
    return this.tokens.create(body, user.username);
  }

  @AuditAction('enrollment-token.revoke')
  @RequirePermission('agents:manage')
  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id') id: string): Promise<void> {
    await this.tokens.revoke(id);
  }
}
