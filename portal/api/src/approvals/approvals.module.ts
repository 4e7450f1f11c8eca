/** Four-eyes approvals of runs: decisions, the inbox, and timeouts. */
import { Module } from '@nestjs/common';
import { DispatchModule } from '../dispatch/dispatch.module';
import { ExecutionsModule } from '../executions/executions.module';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsService } from './approvals.service';

@Module({
  imports: [ExecutionsModule, DispatchModule],
  controllers: [ApprovalsController],
  providers: [ApprovalsService],
})
export class ApprovalsModule {}
