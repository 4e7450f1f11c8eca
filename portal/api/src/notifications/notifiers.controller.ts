/**
 * `/api/v1/notifiers`: admins list, create, change and delete notifiers (file notifiers are changed in their file),
 * read each one's deliveries from the outbox, and send a test message through one.
 */
import { Body, Controller, DefaultValuePipe, Delete, Get, HttpCode, Param, ParseIntPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuditAction } from '../audit/audit-action.decorator';
import { CurrentUser } from '../auth/current-user.decorator';
import { RequirePermission, type Principal } from '../auth/permissions';
import { parseDeliveryStatus } from './dto/deliveries-query';
import { NotificationsService } from './notifications.service';
import { NotifiersService, type DeliveryView, type NotifierView } from './notifiers.service';

// A notifier holds names of secrets, never their values: its body may be recorded.
const notifierTarget = (r: { params: Record<string, string>; body: unknown }) =>
  `notifier:${r.params.id ?? (r.body as { id?: string } | undefined)?.id}`;

@ApiTags('notifiers')
@ApiBearerAuth()
@Controller('api/v1/notifiers')
export class NotifiersController {
  constructor(
    private readonly notifiers: NotifiersService,
    private readonly notifications: NotificationsService,
  ) {}

  @RequirePermission('notifiers:manage')
  @Get()
  list(): Promise<NotifierView[]> {
    return this.notifiers.list();
  }

  @RequirePermission('notifiers:manage')
  @Get(':id')
  get(@Param('id') id: string): Promise<NotifierView> {
    return this.notifiers.get(id);
  }

  @RequirePermission('notifiers:manage')
  @AuditAction('notifier.create', { target: notifierTarget })
  @Post()
  async create(@Body() body: Record<string, unknown>, @CurrentUser() user: Principal): Promise<NotifierView> {
    return this.notifiers.create(await this.notifiers.validate(body), user.username);
  }

  @RequirePermission('notifiers:manage')
  @AuditAction('notifier.update', { target: notifierTarget })
  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: Record<string, unknown>, @CurrentUser() user: Principal): Promise<NotifierView> {
    return this.notifiers.replace(await this.notifiers.withChanges(id, body), user.username);
  }

  @RequirePermission('notifiers:manage')
  @AuditAction('notifier.delete', { target: notifierTarget })
  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.notifiers.remove(id);
  }

  /** Newest first; `?status=pending|delivered|dead` narrows them. */
  @RequirePermission('notifiers:manage')
  @Get(':id/deliveries')
  deliveries(
    @Param('id') id: string,
    @Query('limit', new DefaultValuePipe(50), ParseIntPipe) limit: number,
    @Query('status') status: string | undefined,
  ): Promise<DeliveryView[]> {
    return this.notifiers.deliveries(id, { limit: Math.min(Math.max(limit, 1), 500), status: parseDeliveryStatus(status) });
  }

  /** Queues a test message to this notifier only, through the outbox like any other; its delivery shows how it went. */
  @RequirePermission('notifiers:manage')
  @AuditAction('notifier.test', { target: notifierTarget })
  @Post(':id/test')
  @HttpCode(202)
  test(@Param('id') id: string, @CurrentUser() user: Principal): Promise<{ eventId: string }> {
    return this.notifications.sendTest(id, user.username);
  }
}
