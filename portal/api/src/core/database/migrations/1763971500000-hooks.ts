/**
 * Alert-webhook remediation: hooks (token hash or encrypted HMAC key), every delivery as received (stored before
 * the answer, processed later by whichever replica claims it), alert rules with their circuit-breaker state,
 * firing episodes (the dedup key: rule, fingerprint, startsAt) and the remediations each rule started (the breaker
 * counts these over the last hour).
 */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class Hooks1763971500000 implements MigrationInterface {
  name = 'Hooks1763971500000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE hooks (
      name text PRIMARY KEY,
      type text NOT NULL CHECK (type IN ('alertmanager', 'generic')),
      token_hash text,
      secret_ciphertext bytea, secret_iv bytea, secret_auth_tag bytea, key_id text,
      alerts_path text,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((type = 'alertmanager' AND token_hash IS NOT NULL) OR (type = 'generic' AND secret_ciphertext IS NOT NULL)))`);
    await db.query(`CREATE TABLE hook_deliveries (
      id bigserial PRIMARY KEY,
      hook text NOT NULL REFERENCES hooks (name) ON DELETE CASCADE,
      received_at timestamptz NOT NULL DEFAULT now(),
      source text,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'failed')),
      payload jsonb NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      processed_at timestamptz,
      outcomes jsonb,
      error text)`);
    // The worker's queue: only pending rows, oldest first.
    await db.query(`CREATE INDEX hook_deliveries_pending ON hook_deliveries (id) WHERE status = 'pending'`);
    await db.query(`CREATE INDEX hook_deliveries_by_hook ON hook_deliveries (hook, id DESC)`);
    await db.query(`CREATE TABLE alert_rules (
      id text PRIMARY KEY,
      content jsonb NOT NULL,
      source_file text,
      breaker_reset_at timestamptz,
      tripped_at timestamptz,
      updated_by text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE TABLE alert_episodes (
      rule_id text NOT NULL,
      fingerprint text NOT NULL,
      starts_at text NOT NULL,
      hook text NOT NULL,
      first_seen_at timestamptz NOT NULL DEFAULT now(),
      remediated_at timestamptz,
      execution_id uuid,
      suppressed_at timestamptz,
      resolved_at timestamptz,
      resolved_execution_id uuid,
      PRIMARY KEY (rule_id, fingerprint, starts_at))`);
    await db.query(`CREATE TABLE alert_remediations (
      id bigserial PRIMARY KEY,
      rule_id text NOT NULL,
      fingerprint text NOT NULL,
      starts_at text NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE INDEX alert_remediations_by_rule ON alert_remediations (rule_id, started_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE alert_remediations`);
    await db.query(`DROP TABLE alert_episodes`);
    await db.query(`DROP TABLE alert_rules`);
    await db.query(`DROP TABLE hook_deliveries`);
    await db.query(`DROP TABLE hooks`);
  }
}
