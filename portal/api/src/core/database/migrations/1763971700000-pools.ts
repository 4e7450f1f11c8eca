/**
 * Pools: each pool as loaded or created (its definition, and `desired`, the size Baton has asked its provider
 * for), and every scaling action with who asked, from, to, its provider execution, status and verification.
 */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class Pools1763971700000 implements MigrationInterface {
  name = 'Pools1763971700000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE pools (
      id text PRIMARY KEY,
      content jsonb NOT NULL,
      source_file text,
      desired integer,
      last_action_at timestamptz,
      updated_by text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE TABLE pool_actions (
      id uuid PRIMARY KEY,
      pool_id text NOT NULL,
      status text NOT NULL CHECK (status IN ('pending_approval', 'running', 'settling', 'succeeded', 'failed', 'rejected', 'refused')),
      requested_by jsonb NOT NULL,
      request jsonb NOT NULL,
      reason text NOT NULL,
      is_forced boolean NOT NULL DEFAULT false,
      from_size integer NOT NULL,
      to_size integer NOT NULL,
      nodes jsonb NOT NULL DEFAULT '[]',
      execution_id uuid,
      decided_by text,
      message text,
      verification jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      settle_started_at timestamptz,
      finished_at timestamptz)`);
    await db.query(`CREATE INDEX pool_actions_pool ON pool_actions (pool_id, created_at DESC)`);
    await db.query(`CREATE INDEX pool_actions_live ON pool_actions (status) WHERE status IN ('running', 'settling')`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE pool_actions`);
    await db.query(`DROP TABLE pools`);
  }
}
