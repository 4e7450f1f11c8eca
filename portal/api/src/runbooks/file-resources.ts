/**
 * Kinds stored as a whole document (alert rules, pools, notifiers) keep the same columns: id, content, source_file,
 * updated_by. One load of RUNBOOKS_DIR replaces what files define; what was made through the API stays.
 */
import type { DataSource } from 'typeorm';
import { rowsOf } from '../core/database/rows';

export interface FileDefined {
  resource: { id: string };
  file: string;
}

/** Upserts the file-defined documents (unchanged rows are left alone) and deletes file-defined rows no file has any more. */
export async function replaceFileDefined(
  db: DataSource,
  table: 'alert_rules' | 'pools' | 'notifiers',
  loaded: FileDefined[],
): Promise<{ stored: string[]; removed: string[] }> {
  for (const { resource, file } of loaded) {
    await db.query(
      `INSERT INTO ${table} (id, content, source_file, updated_by) VALUES ($1, $2::jsonb, $3, 'file')
       ON CONFLICT (id) DO UPDATE SET content = $2::jsonb, source_file = $3, updated_by = 'file', updated_at = now()
         WHERE ${table}.content IS DISTINCT FROM $2::jsonb OR ${table}.source_file IS DISTINCT FROM $3`,
      [resource.id, JSON.stringify(resource), file],
    );
  }
  const stored = loaded.map((l) => l.resource.id);
  const removed = rowsOf<{ id: string }>(
    await db.query(`DELETE FROM ${table} WHERE source_file IS NOT NULL AND NOT (id = ANY($1::text[])) RETURNING id`, [stored]),
  );
  return { stored, removed: removed.map((r) => r.id) };
}
