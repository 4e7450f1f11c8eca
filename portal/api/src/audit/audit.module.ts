/**
 * The tamper-evident audit log: AuditService (record, list, export, verify) for every module, the interceptor and
 * middleware that record API changes and refusals, the listener that records execution starts and ends.
 */
import { Global, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { ExecutionsModule } from '../executions/executions.module';
import { AuditController } from './audit.controller';
import { AuditInterceptor, AuditRefusalsMiddleware } from './audit.interceptor';
import { AuditRouteNames } from './audit-route-names';
import { AuditService } from './audit.service';
import { ExecutionAuditListener } from './execution-audit.listener';

@Global()
@Module({
  imports: [DiscoveryModule, ExecutionsModule],
  controllers: [AuditController],
  providers: [AuditService, AuditRouteNames, ExecutionAuditListener, { provide: APP_INTERCEPTOR, useClass: AuditInterceptor }],
  exports: [AuditService],
})
export class AuditModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AuditRefusalsMiddleware).forRoutes('*');
  }
}
