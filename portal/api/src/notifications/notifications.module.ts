/**
 * Notifications: notifiers (`kind: Notifier` files and the admin API), events about runs, alert rules and pools
 * published once each into a stored outbox, and the worker that delivers them to Slack, Teams, webhooks and mail
 * with retries. Other modules publish through NotificationsService (inside their own transaction when the event
 * must commit with its cause) and RunNotices (moments of a run they record).
 */
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ExecutionsModule } from '../executions/executions.module';
import { RunbooksModule } from '../runbooks/runbooks.module';
import { NotificationDelivery, NotificationEventRecord, NotifierRecord } from './notification.entity';
import { NotificationsService } from './notifications.service';
import { NotifiersController } from './notifiers.controller';
import { NotifiersService } from './notifiers.service';
import { OutboxWorker } from './outbox-worker.service';
import { RunNotices } from './run-notices.service';

@Module({
  imports: [TypeOrmModule.forFeature([NotifierRecord, NotificationEventRecord, NotificationDelivery]), ExecutionsModule, RunbooksModule],
  controllers: [NotifiersController],
  providers: [NotifiersService, NotificationsService, OutboxWorker, RunNotices],
  exports: [NotificationsService, RunNotices],
})
export class NotificationsModule {}
