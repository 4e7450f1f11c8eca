/** Notifiers as stored, the events worth telling, and the outbox: one delivery per event and notifier. */
import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { Notifier } from '@baton/shared';
import type { NotificationEvent } from './notification-event';

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

@Entity('notifiers')
export class NotifierRecord {
  @PrimaryColumn('text') id!: string;
  @Column('jsonb') content!: Notifier;
  /** The file that defines the notifier; null for notifiers made through the API. File notifiers are changed in their file. */
  @Column('text', { name: 'source_file', nullable: true }) sourceFile!: string | null;
  @Column('text', { name: 'updated_by', nullable: true }) updatedBy!: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

@Entity('notification_events')
export class NotificationEventRecord {
  /** Also the idempotency key a receiver sees: the same event keeps it through every retry and restart. */
  @PrimaryColumn('text') id!: string;
  @Column('text') type!: string;
  @Column('uuid', { name: 'execution_id', nullable: true }) executionId!: string | null;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt!: Date;
  /** What every notifier renders, secrets already masked. */
  @Column('jsonb') payload!: NotificationEvent;
}

@Entity('notification_deliveries')
export class NotificationDelivery {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('text', { name: 'event_id' }) eventId!: string;
  @Column('text', { name: 'notifier_id' }) notifierId!: string;
  @Column('text') status!: DeliveryStatus;
  @Column('integer') attempts!: number;
  /** When a pending delivery is due; while an attempt runs, when its lease ends (another replica may then retry it). */
  @Column('timestamptz', { name: 'next_attempt_at' }) nextAttemptAt!: Date;
  @Column('timestamptz', { name: 'last_attempt_at', nullable: true }) lastAttemptAt!: Date | null;
  /** The receiver's HTTP status or the SMTP reply code of the last attempt, when it answered. */
  @Column('integer', { name: 'last_status', nullable: true }) lastStatus!: number | null;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'delivered_at', nullable: true }) deliveredAt!: Date | null;
}
