/**
 * Builds the CLI as one file (`npm run build:cli`): dist/cli/baton, an esbuild bundle with a shebang and every
 * dependency inside (commander, and shared's parser for `baton lint`); runs on Node 20+ without node_modules.
 *
 * The parser with its schemas (cli/src/parser.ts: YAML and zod, about 85 % of the code) is bundled on its own and
 * carried inside the file as a string, compiled the first time a command imports it: every other command starts
 * without Node compiling 600 kB it does not run (on the build machine, half the read-and-compile time of the file
 * and about 50 ms less to the first request). The string stays ASCII (esbuild's default escapes), which Node reads
 * faster than the same text as UTF-8.
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
  const parser = await bundle({ entryPoints: [join(__dirname, 'src', 'parser.ts')], write: false, outfile: 'parser.js' });
  await bundle({
    entryPoints: [join(__dirname, 'src', 'main.ts')],
    outfile: outFile,
    banner: { js: '#!/usr/bin/env node' },
    plugins: [embedded(/[\\/]parser$/, parser.outputFiles[0].text)],
  });
  await chmod(outFile, 0o755);
  const result = { file: outFile, bytes: (await stat(outFile)).size, ms: Date.now() - startedAt };
  if (!quiet)
    process.stdout.write(`wrote ${relative(process.cwd(), outFile)} (${(result.bytes / 1024).toFixed(0)} kB) in ${result.ms} ms\n`);
  return result;
}

function bundle(options) {
  return build({
    bundle: true,
    platform: 'node',
    // CommonJS: a module reached only through `await import()` becomes a lazy initialiser, run on first use.
    format: 'cjs',
    target: 'node20',
    tsconfig: join(__dirname, 'tsconfig.json'),
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    ...options,
  });
}

/** Replaces the modules matching `filter` by `code` (a CommonJS bundle) kept as a string until first required. */
function embedded(filter, code) {
  return {
    name: 'embedded',
    setup(build) {
      build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'embedded' }));
      build.onLoad({ filter: /.*/, namespace: 'embedded' }, () => ({
        loader: 'js',
        contents: [
          `const code = ${JSON.stringify(`(function (exports, require, module) {${code}\n})`)};`,
          `require('node:vm').runInThisContext(code, { filename: 'baton-parser.js' })(module.exports, require, module);`,
        ].join('\n'),
      }));
    },
  };
}

module.exports = { buildCli };

if (require.main === module) {
  buildCli().catch((err) => {
    process.stderr.write(`build:cli: ${err.message}\n`);
    process.exit(1);
  });
}
