/**
 * The rows of a `query()` result. TypeORM's PostgreSQL driver answers `UPDATE`/`DELETE ... RETURNING` with
 * `[rows, affectedCount]` but `SELECT` and `INSERT ... RETURNING` with the rows alone.
 */
export function rowsOf<T = unknown>(result: unknown): T[] {
  if (Array.isArray(result) && Array.isArray(result[0])) return result[0] as T[];
  return Array.isArray(result) ? (result as T[]) : [];
}
