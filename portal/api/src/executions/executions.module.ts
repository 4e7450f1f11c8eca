/** The record of executions, node runs, step runs and their events; the read API; running one again. */
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RunbooksModule } from '../runbooks/runbooks.module';
import { ExecutionRerun } from './execution-rerun.entity';
import { Execution, NodeEventRow, NodeRun, StepRun } from './execution.entity';
import { ExecutionsController } from './executions.controller';
import { ExecutionsService } from './executions.service';
import { RerunService } from './rerun.service';

@Module({
  imports: [TypeOrmModule.forFeature([Execution, NodeRun, StepRun, NodeEventRow, ExecutionRerun]), RunbooksModule],
  controllers: [ExecutionsController],
  providers: [ExecutionsService, RerunService],
  exports: [ExecutionsService],
})
export class ExecutionsModule {}
