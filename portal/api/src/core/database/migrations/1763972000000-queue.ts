/**
 * The dispatch queue: accepted executions wait `queued` with their parameters sealed (so that any replica can start
 * them, also after a restart) and their concurrency key; the indexes serve the queue scan and the limit counts.
 */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class Queue1763972000000 implements MigrationInterface {
  name = 'Queue1763972000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `ALTER TABLE executions ADD COLUMN sealed_params text, ADD COLUMN concurrency_key text, ADD COLUMN concurrency_limit integer`,
    );
    await db.query(`CREATE INDEX executions_queued ON executions (created_at) WHERE status = 'queued'`);
    await db.query(
      `CREATE INDEX executions_concurrency ON executions (concurrency_key) WHERE concurrency_key IS NOT NULL AND status IN ('queued', 'running', 'waiting')`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX executions_concurrency`);
    await db.query(`DROP INDEX executions_queued`);
    await db.query(`ALTER TABLE executions DROP COLUMN sealed_params, DROP COLUMN concurrency_key, DROP COLUMN concurrency_limit`);
  }
}
