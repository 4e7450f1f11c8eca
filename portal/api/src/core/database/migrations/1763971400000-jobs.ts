/**
 * Scheduled jobs: their definitions, and one row per fire time claimed (the primary key makes a fire time
 * claimable once, whichever replica tries first) with what came of it. Executions are findable by job.
 */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class Jobs1763971400000 implements MigrationInterface {
  name = 'Jobs1763971400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE jobs (
      id text PRIMARY KEY, namespace text NOT NULL, runbook_id text NOT NULL, content jsonb NOT NULL,
      enabled boolean NOT NULL, source_file text, scheduled_since timestamptz NOT NULL DEFAULT now(),
      created_by text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE TABLE job_fires (
      job_id text NOT NULL, fire_time timestamptz NOT NULL, kind text NOT NULL, outcome text NOT NULL, reason text,
      execution_id uuid, covers_until timestamptz, claimed_by text NOT NULL, claimed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (job_id, fire_time))`);
    // A misfire row stands for the fire times up to covers_until: a replica starting later must not count them again.
    await db.query(`CREATE INDEX job_fires_misfires ON job_fires (job_id, covers_until) WHERE covers_until IS NOT NULL`);
    // Fires claimed but not yet started: what `concurrency: forbid` must also count as running.
    await db.query(`CREATE INDEX job_fires_claimed ON job_fires (job_id) WHERE outcome = 'claimed'`);
    await db.query(`CREATE INDEX executions_job_created ON executions ((trigger->>'job'), created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX executions_job_created`);
    await db.query(`DROP TABLE job_fires`);
    await db.query(`DROP TABLE jobs`);
  }
}
