import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/permissions';
import { NodesService } from './nodes.service';

@ApiTags('nodes')
@ApiBearerAuth()
@Controller('api/v1/nodes')
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  @RequirePermission('nodes:read')
  @Get()
  async list() {
    return (await this.nodes.list()).map(({ name, executor, status, labels, lastSeen, hostname, version }) => ({
      name,
      executor,
      status,
      labels,
      lastSeen,
      hostname,
      version,
    }));
  }
}
