import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { LoadError } from '@baton/shared';
import { RunbooksService } from './runbooks.service';
import type { RunbookRecord } from './runbook.entity';

@ApiTags('runbooks')
@ApiBearerAuth()
@Controller('api/v1')
export class RunbooksController {
  constructor(private readonly runbooks: RunbooksService) {}

  @Get('runbooks')
  async list() {
    return (await this.runbooks.list()).map(summary);
  }

  @Get('runbooks/:id')
  async get(@Param('id') id: string) {
    const record = await this.runbooks.get(id);
    return { ...record.content, version: record.currentHash, sourceFile: record.sourceFile, updatedAt: record.updatedAt };
  }

  /** Resource files that could not be loaded, with file, line, column and the problem. */
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
