/**
 * Notifications: notifiers as loaded or created, every event worth telling (its id is the idempotency key receivers
 * see, so an event is stored once however often it is announced), and the outbox of deliveries, one per event and
 * notifier, with attempts, the next attempt's time (also the lease of the replica sending it) and the last error.
 * An execution's events go with the execution when retention deletes it.
 */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class Notifications1763972300000 implements MigrationInterface {
  name = 'Notifications1763972300000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE notifiers (
      id text PRIMARY KEY,
      content jsonb NOT NULL,
      source_file text,
      updated_by text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE TABLE notification_events (
      id text PRIMARY KEY,
      type text NOT NULL,
      execution_id uuid REFERENCES executions (id) ON DELETE CASCADE,
      occurred_at timestamptz NOT NULL DEFAULT now(),
      payload jsonb NOT NULL)`);
    await db.query(`CREATE INDEX notification_events_execution ON notification_events (execution_id) WHERE execution_id IS NOT NULL`);
    await db.query(`CREATE TABLE notification_deliveries (
      id bigserial PRIMARY KEY,
      event_id text NOT NULL REFERENCES notification_events (id) ON DELETE CASCADE,
      notifier_id text NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_attempt_at timestamptz,
      last_status integer,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz,
      UNIQUE (event_id, notifier_id))`);
    // The outbox worker's queue: pending rows by when they are due.
    await db.query(`CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at) WHERE status = 'pending'`);
    await db.query(`CREATE INDEX notification_deliveries_by_notifier ON notification_deliveries (notifier_id, id DESC)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE notification_deliveries`);
    await db.query(`DROP TABLE notification_events`);
    await db.query(`DROP TABLE notifiers`);
  }
}
