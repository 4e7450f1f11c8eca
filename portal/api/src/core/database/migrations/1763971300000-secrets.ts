/** Secrets encrypted at rest: ciphertext, IV and GCM tag, the id of the master key used, who set it and when. */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class Secrets1763971300000 implements MigrationInterface {
  name = 'Secrets1763971300000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE secrets (
      name text PRIMARY KEY, ciphertext bytea NOT NULL, iv bytea NOT NULL, auth_tag bytea NOT NULL, key_id text NOT NULL,
      set_by text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE secrets`);
  }
}
