import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CreateUserDto, UpdateUserDto } from './dto/auth.dto';
import { RequirePermission } from './permissions';
import type { User } from './user.entity';
import { UsersService } from './users.service';
import { AuditAction } from '../audit/audit-action.decorator';

@ApiTags('users')
@ApiBearerAuth()
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @RequirePermission('users:write')
  @AuditAction('user.create', { target: (r) => `user:${(r.body as { username?: string } | undefined)?.username ?? '?'}` })
  @Post()
  async create(@Body() body: CreateUserDto) {
    return describeUser(await this.users.create(body.username, body.password, body.roles));
  }

  @RequirePermission('users:read')
  @Get()
  async list() {
    return (await this.users.list()).map(describeUser);
  }

  @RequirePermission('users:read')
  @Get(':name')
  async get(@Param('name') name: string) {
    return describeUser(await this.users.get(name));
  }

  @RequirePermission('users:write')
  @AuditAction('user.update')
  @Patch(':name')
  async update(@Param('name') name: string, @Body() body: UpdateUserDto) {
    return describeUser(await this.users.update(name, body));
  }

  @RequirePermission('users:write')
  @AuditAction('user.delete')
  @Delete(':name')
  @HttpCode(204)
  async remove(@Param('name') name: string): Promise<void> {
    await this.users.remove(name);
  }
}

/** A user as the API shows it: never the password hash. */
function describeUser(u: User) {
  return { username: u.username, roles: u.roles, source: u.source, createdAt: u.createdAt, updatedAt: u.updatedAt };
}
