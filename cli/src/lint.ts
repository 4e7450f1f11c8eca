/**
 * `baton lint`: checks resource files offline with the portal's own parser (`parseResources` from shared), so
 * what passes here loads in the portal, and every problem is reported as the portal would list it.
 * Parsing YAML is most of the work; a large tree is split over worker threads, one per CPU.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, sep } from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { parseResources, type LoadError } from '@baton/shared';
import { CliError, EXIT } from './exit-codes';

export interface LintResult {
  files: number;
  resources: number;
  errors: LoadError[];
}

/** Files read at once: enough to hide disk latency, few enough to stay far from the open-files limit. */
const READ_BATCH = 64;

export interface LintOptions {
  /**
   * The script a worker thread starts from (the CLI's own entry, which hands over to `lintWorker`); without it,
   * or for a small tree, everything is parsed in this thread.
   */
  workerEntry?: string;
  workers?: number;
}

/** A worker costs about as much to start (and to warm up the parser's compiled code) as parsing this many files. */
const FILES_PER_WORKER = 50;
const MAX_WORKERS = 8;
/**
 * Each worker compiles and warms up the parser on its own: on 2 CPUs two workers were measured no faster than one
 * thread (and slower on a busy machine), so threads are used by default from 4 CPUs on.
 */
const MIN_CPUS_FOR_WORKERS = 4;

export async function lintPaths(paths: string[], options: LintOptions = {}): Promise<LintResult> {
  const files: string[] = [];
  for (const path of paths) files.push(...(await resourceFiles(path)));
  const cpus = availableParallelism();
  const wanted = options.workers ?? (cpus >= MIN_CPUS_FOR_WORKERS ? cpus : 1);
  const workers = Math.min(wanted, MAX_WORKERS, Math.floor(files.length / FILES_PER_WORKER));
  if (!options.workerEntry || workers < 2) return lintFiles(files);
  const shares = Array.from({ length: workers }, (_, w) => files.filter((_, i) => i % workers === w));
  const results = await Promise.all(shares.map((share) => lintInWorker(options.workerEntry!, share)));
  const order = new Map(files.map((file, i) => [file, i]));
  return {
    files: files.length,
    resources: results.reduce((sum, r) => sum + r.resources, 0),
    errors: results
      .flatMap((r) => r.errors)
      .sort((a, b) => order.get(a.file)! - order.get(b.file)! || a.line - b.line || a.column - b.column),
  };
}

/** Parses the files in this thread, in order. */
export async function lintFiles(files: string[]): Promise<LintResult> {
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

/** The work data a lint worker is started with; the CLI's entry recognizes it. */
export interface LintWorkerData {
  batonLintFiles: string[];
}

export function isLintWorkerData(data: unknown): data is LintWorkerData {
  return typeof data === 'object' && data !== null && Array.isArray((data as LintWorkerData).batonLintFiles);
}

/** Runs in a worker thread: lints its share and posts the result back. */
export async function lintWorker(): Promise<void> {
  const { batonLintFiles } = workerData as LintWorkerData;
  parentPort!.postMessage(await lintFiles(batonLintFiles));
}

function lintInWorker(entry: string, files: string[]): Promise<LintResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(entry, { workerData: { batonLintFiles: files } satisfies LintWorkerData, stdout: true });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`lint worker stopped (exit code ${code}) before answering`)));
  });
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
