/** Access control: where a user comes from, API tokens, refresh tokens, and failed logins for throttling. */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class AccessControl1763971100000 implements MigrationInterface {
  name = 'AccessControl1763971100000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE users ADD COLUMN source text NOT NULL DEFAULT 'local'`);
    await db.query(`ALTER TABLE users ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`);
    await db.query(`CREATE TABLE api_tokens (
      id text PRIMARY KEY, name text NOT NULL, username text NOT NULL REFERENCES users(username) ON DELETE CASCADE,
      secret_hash text NOT NULL, roles jsonb, expires_at timestamptz, created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz, revoked_at timestamptz)`);
    await db.query(`CREATE INDEX api_tokens_username ON api_tokens (username)`);
    await db.query(`CREATE TABLE refresh_tokens (
      id text PRIMARY KEY, family text NOT NULL, username text NOT NULL REFERENCES users(username) ON DELETE CASCADE,
      secret_hash text NOT NULL, expires_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
      used_at timestamptz, revoked_at timestamptz)`);
    await db.query(`CREATE INDEX refresh_tokens_family ON refresh_tokens (family)`);
    await db.query(`CREATE TABLE login_failures (
      id bigserial PRIMARY KEY, username text NOT NULL, source text NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE INDEX login_failures_user_source_at ON login_failures (username, source, at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE login_failures`);
    await db.query(`DROP TABLE refresh_tokens`);
    await db.query(`DROP TABLE api_tokens`);
    await db.query(`ALTER TABLE users DROP COLUMN updated_at`);
    await db.query(`ALTER TABLE users DROP COLUMN source`);
  }
}
