/** Reads every resource file under RUNBOOKS_DIR; a file with errors is reported, never fatal. */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LoadError, parseResources, Resource } from '@baton/shared';

export interface LoadedResource {
  resource: Resource;
  file: string;
}

export async function loadResourceDir(dir: string): Promise<{ resources: LoadedResource[]; errors: LoadError[] }> {
  const resources: LoadedResource[] = [];
  const errors: LoadError[] = [];
  for (const path of await listYamlFiles(dir)) {
    const file = relative(process.cwd(), path);
    const parsed = parseResources(await readFile(path, 'utf8'), file);
    resources.push(...parsed.resources.map((resource) => ({ resource, file })));
    errors.push(...parsed.errors);
  }
  return { resources, errors };
}

async function listYamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}
