/** Self-service scaling: pools (catalog and live size) and scaling actions run by provider runbooks, verified and audited. */
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DispatchModule } from '../dispatch/dispatch.module';
import { ExecutionsModule } from '../executions/executions.module';
import { FleetModule } from '../fleet/fleet.module';
import { NodesModule } from '../nodes/nodes.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { RunbooksModule } from '../runbooks/runbooks.module';
import { PoolAction, PoolRecord } from './pool.entity';
import { PoolsController } from './pools.controller';
import { PoolsService } from './pools.service';
import { ScalingService } from './scaling.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([PoolRecord, PoolAction]),
    DispatchModule,
    ExecutionsModule,
    FleetModule,
    NodesModule,
    RunbooksModule,
    NotificationsModule,
  ],
  controllers: [PoolsController],
  providers: [PoolsService, ScalingService],
  exports: [PoolsService, ScalingService],
})
export class PoolsModule {}
