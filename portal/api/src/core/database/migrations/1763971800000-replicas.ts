/**
 * Portal replicas: each running portal process heartbeats its row, and every execution names the replica that
 * drives it (orchestration, `local` and SSH node runs), so a replica's watchdog leaves the others' runs alone
 * until their driver stops heartbeating.
 */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class Replicas1763971800000 implements MigrationInterface {
  name = 'Replicas1763971800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE portal_replicas (
      id text PRIMARY KEY,
      started_at timestamptz NOT NULL DEFAULT now(),
      seen_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`ALTER TABLE executions ADD COLUMN driven_by text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE executions DROP COLUMN driven_by`);
    await db.query(`DROP TABLE portal_replicas`);
  }
}
