/**
 * Approvals: an execution that needs one carries its policy (who, how many, until when) and waits `waiting`; each
 * approver's decision is a row, one per person (the primary key makes a second one a conflict, not a double count).
 */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class Approvals1763972400000 implements MigrationInterface {
  name = 'Approvals1763972400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE executions ADD COLUMN approval jsonb`);
    await db.query(`CREATE TABLE execution_decisions (
      execution_id uuid NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
      username text NOT NULL,
      decision text NOT NULL CHECK (decision IN ('approved', 'rejected')),
      comment text,
      at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (execution_id, username))`);
    await db.query(`CREATE INDEX executions_awaiting_approval ON executions (created_at) WHERE status = 'waiting' AND approval IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX executions_awaiting_approval`);
    await db.query(`DROP TABLE execution_decisions`);
    await db.query(`ALTER TABLE executions DROP COLUMN approval`);
  }
}
