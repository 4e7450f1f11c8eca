/**
 * Builds the CLI as one file (`npm run build:cli`): dist/cli/baton, an esbuild bundle with a shebang and every
 * dependency inside (commander, and shared's parser for `baton lint`); runs on Node 20+ without node_modules.
 * Tests and benchmarks call `buildCli()`; running this file builds.
 */
const { chmod, stat } = require('node:fs/promises');
const { join, relative, resolve } = require('node:path');
const { build } = require('esbuild');

const ROOT = resolve(__dirname, '..');

/**
 * @param {{ outFile?: string, quiet?: boolean }} [options]
 * @returns {Promise<{ file: string, bytes: number, ms: number }>}
 */
async function buildCli({ outFile = join(ROOT, 'dist', 'cli', 'baton'), quiet = false } = {}) {
  const startedAt = Date.now();
  await build({
    entryPoints: [join(__dirname, 'src', 'main.ts')],
    bundle: true,
    platform: 'node',
    // CommonJS: modules reached only through `await import()` (the parser, for lint) become lazy initialisers, so
    // commands that do not lint never evaluate the schemas; start-up stays short.
    format: 'cjs',
    target: 'node20',
    outfile: outFile,
    banner: { js: '#!/usr/bin/env node' },
    tsconfig: join(__dirname, 'tsconfig.json'),
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  await chmod(outFile, 0o755);
  const result = { file: outFile, bytes: (await stat(outFile)).size, ms: Date.now() - startedAt };
  if (!quiet)
    process.stdout.write(`wrote ${relative(process.cwd(), outFile)} (${(result.bytes / 1024).toFixed(0)} kB) in ${result.ms} ms\n`);
  return result;
}

module.exports = { buildCli };

if (require.main === module) {
  buildCli().catch((err) => {
    process.stderr.write(`build:cli: ${err.message}\n`);
    process.exit(1);
  });
}
