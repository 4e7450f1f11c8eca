/** Agent enrollment: enrollment tokens (stored hashed) and agent identities with their keys and the admin's decision. */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class Fleet1763971900000 implements MigrationInterface {
  name = 'Fleet1763971900000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE enrollment_tokens (
      id text PRIMARY KEY,
      secret_hash text NOT NULL,
      description text,
      expires_at timestamptz NOT NULL,
      max_uses integer NOT NULL CHECK (max_uses > 0),
      uses integer NOT NULL DEFAULT 0,
      auto_accept boolean NOT NULL,
      labels jsonb NOT NULL DEFAULT '{}',
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz)`);
    await db.query(`CREATE TABLE agent_identities (
      name text PRIMARY KEY,
      status text NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'revoked')),
      public_key text NOT NULL UNIQUE,
      box_public_key text NOT NULL,
      fingerprint text NOT NULL,
      labels jsonb NOT NULL DEFAULT '{}',
      pinned_labels jsonb NOT NULL DEFAULT '{}',
      hostname text,
      token_id text REFERENCES enrollment_tokens(id) ON DELETE SET NULL,
      requested_at timestamptz NOT NULL DEFAULT now(),
      decided_at timestamptz,
      decided_by text,
      reason text,
      credentials_issued_at timestamptz)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE agent_identities`);
    await db.query(`DROP TABLE enrollment_tokens`);
  }
}
