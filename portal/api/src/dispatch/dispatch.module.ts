/** Running things: target selection, rolling dispatch, transports (local, NATS agents, SSH), event ingestion, watchdog. */
import { Module } from '@nestjs/common';
import { ExecutionsModule } from '../executions/executions.module';
import { FleetModule } from '../fleet/fleet.module';
import { NodesModule } from '../nodes/nodes.module';
import { RunbooksModule } from '../runbooks/runbooks.module';
import { DispatchQueueService } from './dispatch-queue.service';
import { DispatchService } from './dispatch.service';
import { EventIngestService } from './event-ingest.service';
import { LocalTransport } from './local.transport';
import { NatsTransport } from './nats.transport';
import { SshTransport } from './ssh.transport';
import { RunController } from './run.controller';

@Module({
  imports: [ExecutionsModule, NodesModule, RunbooksModule, FleetModule],
  controllers: [RunController],
  providers: [DispatchService, DispatchQueueService, LocalTransport, NatsTransport, SshTransport, EventIngestService],
  exports: [DispatchService, DispatchQueueService],
})
export class DispatchModule {}
