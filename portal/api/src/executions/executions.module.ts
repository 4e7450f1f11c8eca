/** The record of executions, node runs, step runs and their events; the read API. */
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RunbooksModule } from '../runbooks/runbooks.module';
import { Execution, NodeEventRow, NodeRun, StepRun } from './execution.entity';
import { ExecutionsController } from './executions.controller';
import { ExecutionsService } from './executions.service';

@Module({
  imports: [TypeOrmModule.forFeature([Execution, NodeRun, StepRun, NodeEventRow]), RunbooksModule],
  controllers: [ExecutionsController],
  providers: [ExecutionsService],
  exports: [ExecutionsService],
})
export class ExecutionsModule {}
