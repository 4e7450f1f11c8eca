/** `/api/v1/nodes`: every node with its status; editors and admins declare, change and remove SSH nodes. */
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuditAction } from '../audit/audit-action.decorator';
import { RequirePermission } from '../auth/permissions';
import { NodesService } from './nodes.service';
import { SshNodesService } from './ssh-nodes.service';

@ApiTags('nodes')
@ApiBearerAuth()
@Controller('api/v1/nodes')
export class NodesController {
  constructor(
    private readonly nodes: NodesService,
    private readonly sshNodes: SshNodesService,
  ) {}

  @RequirePermission('nodes:read')
  @Get()
  async list() {
    const ssh = await this.sshNodes.views();
    return (await this.nodes.list()).map(({ name, executor, status, labels, lastSeen, hostname, version }) => ({
      name,
      executor,
      status,
      labels,
      lastSeen,
      hostname,
      version,
      ...(ssh.has(name) ? { ssh: ssh.get(name) } : {}),
    }));
  }

  @AuditAction('node.create', { target: (r) => `node:${(r.body as { name?: string })?.name}` })
  @RequirePermission('nodes:write')
  @Post()
  create(@Body() body: unknown) {
    return this.sshNodes.create(body);
  }

  @AuditAction('node.update')
  @RequirePermission('nodes:write')
  @Patch(':name')
  update(@Param('name') name: string, @Body() body: unknown) {
    return this.sshNodes.update(name, body);
  }

  @AuditAction('node.delete')
  @RequirePermission('nodes:write')
  @Delete(':name')
  @HttpCode(204)
  async remove(@Param('name') name: string): Promise<void> {
    await this.sshNodes.remove(name);
  }
}
