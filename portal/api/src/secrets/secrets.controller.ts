/** `/api/v1/secrets`: admins set and delete secrets; the list shows names, who set them and when, never values. */
import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../auth/auth.service';
import { CurrentUser } from '../auth/current-user.decorator';
import { RequirePermission } from '../auth/permissions';
import { PutSecretDto } from './dto/put-secret.dto';
import { SecretsService, type SecretSummary } from './secrets.service';
import { AuditAction } from '../audit/audit-action.decorator';

@ApiTags('secrets')
@ApiBearerAuth()
@Controller('api/v1/secrets')
export class SecretsController {
  constructor(private readonly secrets: SecretsService) {}

  @Get()
  @RequirePermission('secrets:read')
  list(): Promise<SecretSummary[]> {
    return this.secrets.list();
  }

  @AuditAction('secret.set')
  @Put(':name')
  @RequirePermission('secrets:write')
  put(@Param('name') name: string, @Body() body: PutSecretDto, @CurrentUser() user: Principal): Promise<SecretSummary> {
    return this.secrets.put(name, body.value, user.username);
  }

  @AuditAction('secret.delete')
  @Delete(':name')
  @HttpCode(204)
  @RequirePermission('secrets:write')
  async remove(@Param('name') name: string): Promise<void> {
    await this.secrets.remove(name);
  }
}
