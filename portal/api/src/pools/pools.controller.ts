/**
 * `/api/v1/pools`: readers see pools and their actions, operators ask for changes (`pools:scale`, within the pool's
 * operatorLimit without approval), editors define pools (`pools:write`), admins approve, reject and force
 * (`pools:approve`). Pool permissions are namespaced like runbooks: `operator:web` may scale `web.*` pools.
 */
import {
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuditAction } from '../audit/audit-action.decorator';
import { CurrentUser } from '../auth/current-user.decorator';
import { can, isAdmin, namespaceOf, RequirePermission, type Permission, type Principal } from '../auth/permissions';
import { parseBody, rejectRequestSchema, scaleRequestSchema } from './dto/scale-request';
import type { PoolAction } from './pool.entity';
import { PoolsService, type PoolView } from './pools.service';
import { ScalingService } from './scaling.service';

const poolTarget = (r: { params: Record<string, string>; body: unknown }) =>
  `pool:${r.params.id ?? (r.body as { id?: string } | undefined)?.id}`;

@ApiTags('pools')
@ApiBearerAuth()
@Controller('api/v1/pools')
export class PoolsController {
  constructor(
    private readonly pools: PoolsService,
    private readonly scaling: ScalingService,
  ) {}

  @RequirePermission('pools:read')
  @Get()
  async list(@CurrentUser() user: Principal): Promise<PoolView[]> {
    return (await this.pools.list()).filter((pool) => can(user, 'pools:read', namespaceOf(pool.id)));
  }

  @RequirePermission('pools:read')
  @Get(':id')
  async get(@Param('id') id: string, @CurrentUser() user: Principal): Promise<PoolView> {
    this.checkVisible(user, id);
    return this.pools.get(id);
  }

  @RequirePermission('pools:write')
  @AuditAction('pool.create', { target: poolTarget })
  @Post()
  async create(@Body() body: Record<string, unknown>, @CurrentUser() user: Principal): Promise<PoolView> {
    const pool = await this.pools.validate(body);
    this.checkIn(user, 'pools:write', pool.id);
    return this.pools.create(pool, user.username);
  }

  @RequirePermission('pools:write')
  @AuditAction('pool.update', { target: poolTarget })
  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: Record<string, unknown>, @CurrentUser() user: Principal): Promise<PoolView> {
    this.checkIn(user, 'pools:write', id);
    const changed = await this.pools.withChanges(id, body);
    return this.pools.replace(changed, user.username);
  }

  @RequirePermission('pools:write')
  @AuditAction('pool.delete', { target: poolTarget })
  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string, @CurrentUser() user: Principal): Promise<void> {
    this.checkIn(user, 'pools:write', id);
    await this.pools.remove(id);
  }

  /** 202 with the action: `running` (follow it in the action list) or `pending_approval`. */
  @RequirePermission('pools:scale')
  @AuditAction('pool.scale.request', { target: poolTarget })
  @Post(':id/scale')
  @HttpCode(202)
  async scale(@Param('id') id: string, @Body() body: unknown, @CurrentUser() user: Principal): Promise<PoolAction> {
    const request = parseBody(scaleRequestSchema, body);
    this.checkIn(user, 'pools:scale', id);
    return this.scaling.requestScale(id, request.to !== undefined ? { to: request.to } : { by: request.by }, {
      requester: { type: 'user', user: user.username, isAdmin: isAdmin(user), ...(user.tokenId ? { token: user.tokenId } : {}) },
      reason: request.reason,
      isForced: request.force,
    });
  }

  @RequirePermission('pools:read')
  @Get(':id/actions')
  async actions(@Param('id') id: string, @CurrentUser() user: Principal): Promise<PoolAction[]> {
    this.checkVisible(user, id);
    return this.scaling.listActions(id);
  }

  @RequirePermission('pools:read')
  @Get(':id/actions/:action')
  async action(
    @Param('id') id: string,
    @Param('action', ParseUUIDPipe) action: string,
    @CurrentUser() user: Principal,
  ): Promise<PoolAction> {
    this.checkVisible(user, id);
    return this.scaling.getAction(id, action);
  }

  @RequirePermission('pools:approve')
  @AuditAction('pool.scale.approve', { target: poolTarget })
  @Post(':id/actions/:action/approve')
  @HttpCode(200)
  approve(@Param('id') id: string, @Param('action', ParseUUIDPipe) action: string, @CurrentUser() user: Principal): Promise<PoolAction> {
    return this.scaling.approve(id, action, user.username);
  }

  @RequirePermission('pools:approve')
  @AuditAction('pool.scale.reject', { target: poolTarget })
  @Post(':id/actions/:action/reject')
  @HttpCode(200)
  reject(
    @Param('id') id: string,
    @Param('action', ParseUUIDPipe) action: string,
    @Body() body: unknown,
    @CurrentUser() user: Principal,
  ): Promise<PoolAction> {
    return this.scaling.reject(id, action, user.username, parseBody(rejectRequestSchema, body).reason);
  }

  /** Pools in namespaces the caller may not read are 404, as if they did not exist. */
  private checkVisible(user: Principal, id: string): void {
    if (!can(user, 'pools:read', namespaceOf(id))) throw new NotFoundException(`pool "${id}" not found`);
  }

  private checkIn(user: Principal, permission: Permission, id: string): void {
    this.checkVisible(user, id);
    if (!can(user, permission, namespaceOf(id)))
      throw new ForbiddenException(`your roles do not grant "${permission}" in namespace "${namespaceOf(id)}"`);
  }
}
