/**
 * Alert-webhook remediation: hooks that monitoring posts to, their stored deliveries and the worker that processes
 * them, alert rules (from files and the API) with dedup per firing episode and a per-rule circuit breaker.
 */
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DispatchModule } from '../dispatch/dispatch.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { PoolsModule } from '../pools/pools.module';
import { RunbooksModule } from '../runbooks/runbooks.module';
import { AlertRulesController } from './alert-rules.controller';
import { AlertRulesService } from './alert-rules.service';
import { DeliveryWorker } from './delivery-worker.service';
import { AlertRuleRecord, Hook, HookDelivery } from './hook.entity';
import { HookReceiverController } from './hook-receiver.controller';
import { HooksController } from './hooks.controller';
import { HooksService } from './hooks.service';
import { RemediationService } from './remediation.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([Hook, HookDelivery, AlertRuleRecord]),
    DispatchModule,
    RunbooksModule,
    PoolsModule,
    NotificationsModule,
  ],
  controllers: [HooksController, HookReceiverController, AlertRulesController],
  providers: [HooksService, AlertRulesService, RemediationService, DeliveryWorker],
})
export class HooksModule {}
