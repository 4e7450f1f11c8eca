/**
 * Quoting for POSIX shells, for commands sent to another machine (SSH): sshd ignores `env` requests, so the
 * command exports the step's variables itself. Every value is single-quoted, and a single quote inside is
 * written `'\''` (close, escaped quote, reopen): inside single quotes a POSIX shell interprets nothing, not `$`,
 * not backticks, not backslashes, not newlines, so no value can end the quoting early.
 */

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `value` as one single-quoted shell word that the shell reads back as exactly `value`. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell word cannot contain a NUL character');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * `export A='1' B='2'` for the given variables, or '' when there are none. Names are checked (the schema already
 * allows only these), since a name is pasted unquoted.
 */
export function exportStatement(env: Record<string, string>): string {
  const assignments = Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new Error(`"${name}" is not a valid environment variable name`);
    return `${name}=${shellQuote(value)}`;
  });
  return assignments.length === 0 ? '' : `export ${assignments.join(' ')}`;
}
