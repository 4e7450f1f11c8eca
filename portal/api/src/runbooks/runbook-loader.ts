/**
 * Reads every resource file under RUNBOOKS_DIR; a file with errors is reported, never fatal. A reader remembers
 * what each file parsed to, so a reload after one edit parses one file, not the whole library.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LoadError, parseResources, Resource } from '@baton/shared';

export interface LoadedResource {
  resource: Resource;
  file: string;
}

/** One file of a load: what it defines (its valid documents) and what is wrong with the others. */
export interface LoadedFile {
  file: string;
  resources: LoadedResource[];
  errors: LoadError[];
}

export class ResourceDirReader {
  /** The last text read from each file and what it parsed to. */
  private readonly parsed = new Map<string, { text: string; result: LoadedFile }>();

  constructor(private readonly dir: string) {}

  /** Every YAML file under the directory, in path order; files that vanished since the last read are forgotten. */
  async read(): Promise<LoadedFile[]> {
    const files: LoadedFile[] = [];
    const seen = new Set<string>();
    for (const path of await listYamlFiles(this.dir)) {
      const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
        // Deleted between the listing and the read (an editor's atomic save): the next event reloads it.
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (text === undefined) continue;
      seen.add(path);
      files.push(this.parse(path, text));
    }
    for (const path of this.parsed.keys()) if (!seen.has(path)) this.parsed.delete(path);
    return files;
  }

  private parse(path: string, text: string): LoadedFile {
    const cached = this.parsed.get(path);
    if (cached?.text === text) return cached.result;
    const file = relative(process.cwd(), path);
    const { resources, errors } = parseResources(text, file);
    const result = { file, resources: resources.map((resource) => ({ resource, file })), errors };
    this.parsed.set(path, { text, result });
    return result;
  }
}

/** The directories of the tree (the root first), for watching: a directory watch sees its own entries only. */
export async function listDirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(ignoreMissing);
  return [dir, ...entries.filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name))];
}

async function listYamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(ignoreMissing);
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function ignoreMissing(err: NodeJS.ErrnoException): never[] {
  if (err.code === 'ENOENT') return [];
  throw err;
}
