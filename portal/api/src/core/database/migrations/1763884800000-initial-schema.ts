/** The first schema: runbooks and versions, nodes, users, settings, executions with node runs, step runs, events. */
import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763884800000 implements MigrationInterface {
  name = 'InitialSchema1763884800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE runbooks (
      id text PRIMARY KEY, namespace text NOT NULL, title text NOT NULL, current_hash text NOT NULL,
      content jsonb NOT NULL, source_file text, updated_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE TABLE runbook_versions (
      hash text PRIMARY KEY, runbook_id text NOT NULL, content jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE INDEX runbook_versions_runbook ON runbook_versions (runbook_id)`);
    await db.query(`CREATE TABLE nodes (
      name text PRIMARY KEY, executor text NOT NULL, labels jsonb NOT NULL DEFAULT '{}', hostname text, version text,
      status text NOT NULL, last_seen timestamptz, registered_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE TABLE users (
      username text PRIMARY KEY, password_hash text NOT NULL, roles jsonb NOT NULL DEFAULT '[]',
      created_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL)`);
    await db.query(`CREATE TABLE executions (
      id uuid PRIMARY KEY, runbook_id text NOT NULL, runbook_hash text NOT NULL, status text NOT NULL, reason text,
      trigger jsonb NOT NULL, actor text NOT NULL, params jsonb NOT NULL, targets jsonb NOT NULL, timeout_ms integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(), started_at timestamptz, finished_at timestamptz,
      cancel_requested_at timestamptz)`);
    await db.query(`CREATE INDEX executions_runbook_created ON executions (runbook_id, created_at)`);
    await db.query(`CREATE INDEX executions_status_created ON executions (status, created_at)`);
    await db.query(`CREATE TABLE node_runs (
      id uuid PRIMARY KEY, execution_id uuid NOT NULL REFERENCES executions(id) ON DELETE CASCADE, node text NOT NULL,
      executor text NOT NULL, position integer NOT NULL, status text NOT NULL, reason text,
      dispatched_at timestamptz, started_at timestamptz, finished_at timestamptz)`);
    await db.query(`CREATE INDEX node_runs_execution ON node_runs (execution_id)`);
    await db.query(`CREATE INDEX node_runs_status_node ON node_runs (status, node)`);
    await db.query(`CREATE TABLE step_runs (
      node_run_id uuid NOT NULL REFERENCES node_runs(id) ON DELETE CASCADE, step_id text NOT NULL, attempt integer NOT NULL,
      status text NOT NULL, exit_code integer, outputs jsonb NOT NULL DEFAULT '{}', error text,
      started_at timestamptz, finished_at timestamptz, PRIMARY KEY (node_run_id, step_id, attempt))`);
    await db.query(`CREATE TABLE node_events (
      node_run_id uuid NOT NULL REFERENCES node_runs(id) ON DELETE CASCADE, seq integer NOT NULL, type text NOT NULL,
      step_id text, attempt integer, stream text, data text, at timestamptz NOT NULL, PRIMARY KEY (node_run_id, seq))`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of [
      'node_events',
      'step_runs',
      'node_runs',
      'executions',
      'settings',
      'users',
      'nodes',
      'runbook_versions',
      'runbooks',
    ]) {
      await db.query(`DROP TABLE ${table}`);
    }
  }
}
