/**
 * Reruns: an execution started by "Run again" or "Retry failed nodes" is linked to the one it repeats, so either
 * page can point at the other. The link goes with the new execution; the first may be pruned before it.
 */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class ExecutionReruns1763972310000 implements MigrationInterface {
  name = 'ExecutionReruns1763972310000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE execution_reruns (
      execution_id uuid PRIMARY KEY REFERENCES executions (id) ON DELETE CASCADE,
      rerun_of uuid NOT NULL,
      is_only_failed_nodes boolean NOT NULL,
      requested_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE INDEX execution_reruns_of ON execution_reruns (rerun_of)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE execution_reruns`);
  }
}
