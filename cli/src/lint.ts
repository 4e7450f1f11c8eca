/**
 * `baton lint`: checks resource files offline with the portal's own parser (`parseResources` from shared), so
 * what passes here loads in the portal, and every problem is reported as the portal would list it.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parseResources, type LoadError } from '@baton/shared';
import { CliError, EXIT } from './exit-codes';

export interface LintResult {
  files: number;
  resources: number;
  errors: LoadError[];
}

/** Files read at once: enough to hide disk latency, few enough to stay far from the open-files limit. */
const READ_BATCH = 64;

export async function lintPaths(paths: string[]): Promise<LintResult> {
  const files: string[] = [];
  for (const path of paths) files.push(...(await resourceFiles(path)));
  const result: LintResult = { files: files.length, resources: 0, errors: [] };
  for (let i = 0; i < files.length; i += READ_BATCH) {
    const batch = files.slice(i, i + READ_BATCH);
    const texts = await Promise.all(batch.map((file) => readFile(file, 'utf8')));
    batch.forEach((file, j) => {
      const parsed = parseResources(texts[j], file);
      result.resources += parsed.resources.length;
      result.errors.push(...parsed.errors);
    });
  }
  return result;
}

/** `file:line:col: message`, the format editors and CI annotators understand. */
export function formatLoadError(error: LoadError): string {
  return `${error.file}:${error.line}:${error.column}: ${error.message}`;
}

/** A file as given (whatever its name), or the YAML files under a directory, skipping hidden ones and node_modules. */
async function resourceFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new CliError(`${path}: no such file or directory`, EXIT.usage);
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .filter(
      (file) =>
        !relative(path, file)
          .split(sep)
          .some((part) => part === 'node_modules' || part.startsWith('.')),
    )
    .sort();
}
