import { Controller, Get, Param } from '@nestjs/common';
import { CurrentUser } from '../auth/current-user.decorator';
import { RequirePermission, type Principal } from '../auth/permissions';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { LoadError } from '@baton/shared';
import { RunbooksService } from './runbooks.service';
import type { RunbookRecord } from './runbook.entity';

@ApiTags('runbooks')
@ApiBearerAuth()
@Controller('api/v1')
export class RunbooksController {
  constructor(private readonly runbooks: RunbooksService) {}

  /** The runbooks the caller may see (others are simply absent). */
  @RequirePermission('runbooks:read')
  @Get('runbooks')
  async list(@CurrentUser() user: Principal) {
    return (await this.runbooks.listVisible(user)).map(summary);
  }

  @RequirePermission('runbooks:read')
  @Get('runbooks/:id')
  async get(@Param('id') id: string, @CurrentUser() user: Principal) {
    const record = await this.runbooks.getVisible(id, user);
    return { ...record.content, version: record.currentHash, sourceFile: record.sourceFile, updatedAt: record.updatedAt };
  }

  /** Resource files that could not be loaded, with file, line, column and the problem. */
  @RequirePermission('runbooks:read')
  @Get('resources/errors')
  errors(): LoadError[] {
    return this.runbooks.errors();
  }
}

function summary(record: RunbookRecord) {
  const { id, title, description, tags, params, targets } = record.content;
  return {
    id,
    namespace: record.namespace,
    title,
    description,
    tags: tags ?? [],
    params: params ?? {},
    targets,
    version: record.currentHash,
  };
}
