/** Agentless nodes: how to reach each SSH node (host, user, secrets, host key as declared and as pinned, jump host). */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class SshNodes1763971600000 implements MigrationInterface {
  name = 'SshNodes1763971600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE ssh_nodes (
      name text PRIMARY KEY REFERENCES nodes(name) ON DELETE CASCADE, host text NOT NULL, port integer NOT NULL,
      ssh_user text NOT NULL, key_secret text, password_secret text, host_key text NOT NULL, pinned_host_key text,
      jump_host text, source_file text, check_reason text, checked_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now())`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM nodes WHERE executor = 'ssh'`);
    await db.query(`DROP TABLE ssh_nodes`);
  }
}
