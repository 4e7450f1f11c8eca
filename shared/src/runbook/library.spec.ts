/**
 * The runbook library in runbooks/ is loaded at start; a file that does not load would be missing from
 * the portal. These tests keep every file loadable and every step script at least valid sh.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseResources } from './parse';
import type { Resource } from './schema';

const LIBRARY_DIR = join(__dirname, '..', '..', '..', 'runbooks');

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFilesUnder(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

const files = yamlFilesUnder(LIBRARY_DIR).map((path) => relative(LIBRARY_DIR, path));
const loaded = files.map((file) => ({ file, ...parseResources(readFileSync(join(LIBRARY_DIR, file), 'utf8'), file) }));
const runbooks = loaded.flatMap(({ file, resources }) =>
  resources
    .filter((resource): resource is Extract<Resource, { kind: 'Runbook' }> => resource.kind === 'Runbook')
    .map((runbook) => ({ file, runbook })),
);

describe('the runbook library', () => {
  it('contains the demo and ops runbooks', () => {
    expect(runbooks.map(({ runbook }) => runbook.id)).toEqual(
      expect.arrayContaining(['demo.hello', 'ops.disk-usage', 'ops.service-restart', 'ops.diagnostics', 'ops.log-rotate']),
    );
  });

  it.each(files)('loads %s without errors', (file) => {
    const result = loaded.find((entry) => entry.file === file);
    expect(result?.errors).toEqual([]);
    expect(result?.resources.length).toBeGreaterThan(0);
  });

  it('uses every resource id once', () => {
    const ids = loaded.flatMap(({ resources }) =>
      resources.map((resource) => `${resource.kind}/${'id' in resource ? resource.id : resource.name}`),
    );
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
  });

  describe.each(runbooks.map(({ file, runbook }) => [file, runbook] as const))('%s', (_file, runbook) => {
    const commandSteps = [...runbook.steps, ...(runbook.onFailure ?? [])].filter((step) => step.run !== undefined);

    it.each(commandSteps.map((step) => [step.id, step.run ?? ''] as const))('step %s is valid sh', (_id, script) => {
      const check = spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    });

    it('never pastes parameters into commands', () => {
      for (const step of commandSteps) expect(step.run).not.toMatch(/\{\{|\$\{\{/);
    });
  });
});
