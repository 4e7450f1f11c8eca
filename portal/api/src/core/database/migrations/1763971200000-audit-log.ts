/**
 * The audit log: an append-only, hash-chained table.
 *
 * A BEFORE INSERT trigger takes one transaction-scoped advisory lock, so that inserts from any number of portal
 * replicas are chained one after the other: it numbers the row (last seq + 1, gap-free), links it to the hash of
 * the previous row (64 zeros for the first) and stores SHA-256(prev_hash || canonical form of the row). The
 * canonical form is a JSON array built by the database itself (time in UTC with microseconds; jsonb text output
 * is deterministic), so it depends on no session setting. UPDATE, DELETE and TRUNCATE are refused by triggers.
 */
import { MigrationInterface, QueryRunner } from 'typeorm';

/** Any constant: the key of the advisory lock that serializes appends to the chain. */
export const AUDIT_CHAIN_LOCK = 7_245_031_805;

export class AuditLog1763971200000 implements MigrationInterface {
  name = 'AuditLog1763971200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE audit_events (
      seq bigint PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT clock_timestamp(),
      actor_type text NOT NULL,
      actor text NOT NULL,
      action text NOT NULL,
      target text,
      details jsonb NOT NULL DEFAULT '{}',
      source text,
      prev_hash text NOT NULL,
      hash text NOT NULL)`);
    await db.query(`CREATE INDEX audit_events_actor ON audit_events (actor, seq)`);
    await db.query(`CREATE INDEX audit_events_action ON audit_events (action text_pattern_ops, seq)`);
    await db.query(`CREATE INDEX audit_events_target ON audit_events (target, seq)`);
    await db.query(`CREATE INDEX audit_events_at ON audit_events USING brin (at)`);

    await db.query(`CREATE FUNCTION audit_event_hash(
        prev_hash text, seq bigint, at timestamptz, actor_type text, actor text, action text, target text, details jsonb, source text)
      RETURNS text LANGUAGE sql STABLE AS $$
        SELECT encode(sha256(convert_to(prev_hash || jsonb_build_array(
          seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), actor_type, actor, action, target, details, source
        )::text, 'UTF8')), 'hex')
      $$`);
    // The function's plan for "newest row" is made once per session and kept: made while the table was tiny, it
    // could be a sequential scan, and a bulk insert would then rescan the table for every row (quadratic). Without
    // sequential scans the lookup is always one step down the primary key, however the table grew.
    await db.query(`CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
      DECLARE
        last_seq bigint;
        last_hash text;
      BEGIN
        PERFORM pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK});
        SELECT e.seq, e.hash INTO last_seq, last_hash FROM audit_events e ORDER BY e.seq DESC LIMIT 1;
        NEW.seq := coalesce(last_seq, 0) + 1;
        NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
        NEW.at := coalesce(NEW.at, clock_timestamp());
        NEW.details := coalesce(NEW.details, '{}'::jsonb);
        NEW.hash := audit_event_hash(NEW.prev_hash, NEW.seq, NEW.at, NEW.actor_type, NEW.actor, NEW.action, NEW.target,
                                     NEW.details, NEW.source);
        RETURN NEW;
      END $$`);
    await db.query(`CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the audit log is append-only: % on audit_events refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await db.query(`CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_chain()`);
    await db.query(`CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()`);
    await db.query(`CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE audit_events`);
    await db.query(`DROP FUNCTION audit_events_refuse_change()`);
    await db.query(`DROP FUNCTION audit_events_chain()`);
    await db.query(`DROP FUNCTION audit_event_hash(text, bigint, timestamptz, text, text, text, text, jsonb, text)`);
  }
}
