/** The node inventory and liveness: agents, the local node, and agentless SSH nodes (declared, checked, connected to). */
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RunbooksModule } from '../runbooks/runbooks.module';
import { NodeRecord } from './node.entity';
import { NodesController } from './nodes.controller';
import { NodesService } from './nodes.service';
import { SshNodeRecord } from './ssh-node.entity';
import { SshNodesService } from './ssh-nodes.service';

@Module({
  imports: [TypeOrmModule.forFeature([NodeRecord, SshNodeRecord]), RunbooksModule],
  controllers: [NodesController],
  providers: [NodesService, SshNodesService],
  exports: [NodesService, SshNodesService],
})
export class NodesModule {}
