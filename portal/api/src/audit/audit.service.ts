/**
 * The audit log: appends events (grouped into one INSERT while another is in flight, so that recording stays
 * cheap under load), lists them with cursor paging, streams them for export in keyset batches, and verifies the
 * hash chain in one scan. Numbering and hashing happen in the database trigger (see the audit-log migration).
 */
import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuditEventInput, AuditEventView, AuditRedactor, AuditVerification } from './audit-event';
import { AUDIT_ROW_COLUMNS, AuditFilter, AuditRow, encodeCursor, filterCondition, toView } from './audit-query';

/** Rows per INSERT: large enough to absorb a burst, small enough to keep one statement short. */
const MAX_INSERT_ROWS = 1000;
export const EXPORT_BATCH_ROWS = 5000;
/** Larger details (e.g. a whole uploaded runbook) are summarized: the log keeps who and what, not megabytes. */
const MAX_DETAILS_CHARS = 64 * 1024;

interface PendingEvent {
  row: InsertRow;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface InsertRow {
  at: string;
  actorType: string;
  actor: string;
  action: string;
  target: string | null;
  details: string;
  source: string | null;
}

export interface AuditPage {
  items: AuditEventView[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string;
}

export interface PageRequest {
  limit: number;
  /** The seq the previous page ended at. */
  after?: number;
  order: 'asc' | 'desc';
}

@Injectable()
export class AuditService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditService.name);
  private readonly redactors: AuditRedactor[] = [];
  private queue: PendingEvent[] = [];
  private isDraining = false;
  private drained: Promise<void> = Promise.resolve();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Registers a function applied to the serialized details of every event before it is stored (the secrets
   * module masks secret values with it). Returns a function that removes it again.
   */
  addRedactor(redactor: AuditRedactor): () => void {
    this.redactors.push(redactor);
    return () => {
      const index = this.redactors.indexOf(redactor);
      if (index >= 0) this.redactors.splice(index, 1);
    };
  }

  /** Appends an event; resolves once it is committed. Await it: an action whose event is lost did not happen. */
  record(event: AuditEventInput): Promise<void> {
    let row: InsertRow;
    try {
      row = this.toInsertRow(event);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.isDraining) {
        this.isDraining = true;
        this.drained = this.drain();
      }
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drained;
  }

  /** Writes queued events until none are left: the first alone at once, later ones in groups. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_INSERT_ROWS);
      try {
        await this.insert(batch.map((p) => p.row));
        for (const pending of batch) pending.resolve();
      } catch (err) {
        this.logger.error({ err, events: batch.length }, 'audit events could not be stored');
        for (const pending of batch) pending.reject(err);
      }
    }
    this.isDraining = false;
  }

  private async insert(rows: InsertRow[]): Promise<void> {
    const column = <K extends keyof InsertRow>(key: K) => rows.map((r) => r[key]);
    await this.db.query(
      `INSERT INTO audit_events (at, actor_type, actor, action, target, details, source)
       SELECT at, actor_type, actor, action, target, details::jsonb, source
         FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
           AS e(at, actor_type, actor, action, target, details, source)`,
      [column('at'), column('actorType'), column('actor'), column('action'), column('target'), column('details'), column('source')],
    );
  }

  private toInsertRow(event: AuditEventInput): InsertRow {
    let details = this.redact(JSON.stringify(event.details ?? {}));
    if (details.length > MAX_DETAILS_CHARS) {
      details = JSON.stringify({ truncated: true, chars: details.length, start: details.slice(0, 1024) });
    }
    return {
      at: (event.at ?? new Date()).toISOString(),
      actorType: event.actor.type,
      actor: withoutNul(event.actor.name),
      action: withoutNul(event.action),
      target: event.target === undefined ? null : withoutNul(this.redact(event.target)),
      // PostgreSQL text cannot hold NUL, not even escaped inside jsonb.
      details: details.replace(/\\u0000/g, '\\ufffd'),
      source: event.source === undefined ? null : withoutNul(event.source),
    };
  }

  private redact(text: string): string {
    return this.redactors.reduce((masked, redactor) => redactor(masked), text);
  }

  async list(filter: AuditFilter, page: PageRequest): Promise<AuditPage> {
    const params: unknown[] = [];
    let condition = filterCondition(filter, params);
    if (page.after !== undefined) {
      params.push(page.after);
      condition += ` AND seq ${page.order === 'desc' ? '<' : '>'} $${params.length}`;
    }
    params.push(page.limit + 1);
    const rows: AuditRow[] = await this.db.query(
      `SELECT ${AUDIT_ROW_COLUMNS} FROM audit_events WHERE ${condition}
        ORDER BY seq ${page.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
      params,
    );
    const hasMore = rows.length > page.limit;
    const items = rows.slice(0, page.limit).map(toView) as AuditEventView[];
    return { items, ...(hasMore ? { nextCursor: encodeCursor(items.at(-1)!.seq) } : {}) };
  }

  /**
   * The matching events, oldest first, as text (one line per event, built by `lineSql`), read in windows of
   * `EXPORT_BATCH_ROWS` consecutive seqs: each query reads a bounded slice of the primary key whatever the filter
   * and the table statistics, so memory stays flat and time grows linearly however long the log is. Events
   * appended after the export began are left out: the export is a snapshot.
   */
  async *exportChunks(filter: AuditFilter, lineSql: string, batchRows = EXPORT_BATCH_ROWS): AsyncGenerator<string> {
    const [{ head }]: { head: string }[] = await this.db.query(`SELECT coalesce(max(seq), 0) AS head FROM audit_events`);
    for (let after = 0; after < Number(head); after += batchRows) {
      const params: unknown[] = [];
      const condition = filterCondition(filter, params);
      params.push(after, Math.min(after + batchRows, Number(head)));
      const n = params.length;
      const [batch]: { text: string | null }[] = await this.db.query(
        `SELECT string_agg(line, '' ORDER BY seq) AS text
           FROM (SELECT seq, ${lineSql} AS line FROM audit_events
                  WHERE ${condition} AND seq > $${n - 1} AND seq <= $${n}) batch`,
        params,
      );
      if (batch.text) yield batch.text;
    }
  }

  /**
   * Recomputes every hash and link in one scan. The first bad event is the first whose hash does not match its
   * content (edited), whose prev_hash is not its predecessor's hash (re-linked), or that is missing (deleted).
   */
  async verify(): Promise<AuditVerification> {
    const [summary]: { checked: string; first_bad: string | null; last_seq: string | null }[] = await this.db.query(
      `SELECT count(*) AS checked, min(seq) FILTER (WHERE problem IS NOT NULL) AS first_bad, max(seq) AS last_seq
         FROM (${CHAIN_CHECK}) chain`,
    );
    const checked = Number(summary.checked);
    const head = await this.headAt(summary.last_seq);
    if (summary.first_bad === null) return { ok: true, checked, ...(head ? { head } : {}) };
    const [bad]: { problem: AuditVerification['reason']; before_seq: string | null }[] = await this.db.query(
      `SELECT problem, before_seq FROM (${CHAIN_CHECK}) chain WHERE seq = $1`,
      [summary.first_bad],
    );
    const firstBadSeq = bad.problem === 'missing' ? Number(bad.before_seq ?? 0) + 1 : Number(summary.first_bad);
    return { ok: false, checked, firstBadSeq, reason: bad.problem, ...(head ? { head } : {}) };
  }

  private async headAt(seq: string | null): Promise<{ seq: number; hash: string } | undefined> {
    if (seq === null) return undefined;
    const [row]: { hash: string }[] = await this.db.query(`SELECT hash FROM audit_events WHERE seq = $1`, [seq]);
    return row ? { seq: Number(seq), hash: row.hash } : undefined;
  }
}

/** Every event with what is wrong with it (NULL when nothing), comparing each with its predecessor by seq. */
const CHAIN_CHECK = `
  SELECT seq, before_seq,
         CASE WHEN seq <> coalesce(before_seq, 0) + 1 THEN 'missing'
              WHEN prev_hash <> coalesce(before_hash, repeat('0', 64)) THEN 'prev_hash mismatch'
              WHEN hash <> audit_event_hash(prev_hash, seq, at, actor_type, actor, action, target, details, source)
                THEN 'hash mismatch'
         END AS problem
    FROM (SELECT *, lag(seq) OVER w AS before_seq, lag(hash) OVER w AS before_hash
            FROM audit_events WINDOW w AS (ORDER BY seq)) linked`;

function withoutNul(text: string): string {
  return text.includes('\0') ? text.replace(/\0/g, '\ufffd') : text;
}
