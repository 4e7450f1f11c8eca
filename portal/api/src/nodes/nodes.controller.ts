import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { NodesService } from './nodes.service';

@ApiTags('nodes')
@ApiBearerAuth()
@Controller('api/v1/nodes')
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

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
