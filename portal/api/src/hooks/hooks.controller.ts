/** `/api/v1/hooks`: admins create (token shown once) and delete hooks; readers list them and their deliveries. */
import {
  BadRequestException,
  Body,
  Controller,
  DefaultValuePipe,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseIntPipe,
  Post,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuditAction } from '../audit/audit-action.decorator';
import { CurrentUser } from '../auth/current-user.decorator';
import { RequirePermission, type Principal } from '../auth/permissions';
import { parseAlertsPath } from './alert-payload';
import { CreateHookDto } from './dto/create-hook.dto';
import { HooksService } from './hooks.service';

@ApiTags('hooks')
@ApiBearerAuth()
@Controller('api/v1/hooks')
export class HooksController {
  constructor(private readonly hooks: HooksService) {}

  @RequirePermission('hooks:write')
  // The answer holds the token; the request body holds none, so it may be recorded.
  @AuditAction('hook.create', { target: (r) => `hook:${(r.body as { name?: string } | undefined)?.name}` })
  @Post()
  create(@Body() body: CreateHookDto, @CurrentUser() user: Principal) {
    if (body.alertsPath !== undefined) {
      if (body.type !== 'generic')
        throw new BadRequestException({ message: 'alertsPath: only generic hooks have one', details: [{ field: 'alertsPath' }] });
      try {
        parseAlertsPath(body.alertsPath);
      } catch (err) {
        throw new BadRequestException({ message: `alertsPath: ${(err as Error).message}`, details: [{ field: 'alertsPath' }] });
      }
    }
    return this.hooks.create(body.name, body.type, body.alertsPath, user.username);
  }

  @RequirePermission('hooks:read')
  @Get()
  list() {
    return this.hooks.list();
  }

  @RequirePermission('hooks:write')
  @AuditAction('hook.delete')
  @Delete(':name')
  @HttpCode(204)
  async remove(@Param('name') name: string): Promise<void> {
    await this.hooks.remove(name);
  }

  /** Newest first: each delivery as received and what each of its alerts caused. */
  @RequirePermission('hooks:read')
  @Get(':name/deliveries')
  async deliveries(@Param('name') name: string, @Query('limit', new DefaultValuePipe(50), ParseIntPipe) limit: number) {
    const rows = await this.hooks.listDeliveries(name, Math.min(Math.max(limit, 1), 500));
    return rows.map((d) => ({
      id: d.id,
      receivedAt: d.receivedAt,
      source: d.source,
      status: d.status,
      processedAt: d.processedAt,
      error: d.error,
      outcomes: d.outcomes ?? [],
      payload: d.payload,
    }));
  }
}
