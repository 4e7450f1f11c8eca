/**
 * Builds the agent as one file (`npm run build:agent`):
 *   dist/agent/baton-agent.js  the esbuild bundle with its only dependencies (the NATS client and shared); runs on Node 20+.
 *   dist/agent/baton-agent     the same bundle as a single executable (Node's SEA): this Node binary with the bundle
 *                              injected, so a node needs no Node.js. It fits machines of the build machine's OS and CPU.
 * The portal serves the executable at GET /install/baton-agent. Tests call `buildAgent()`; running this file builds.
 */
const { execFile } = require('node:child_process');
const { chmod, copyFile, mkdtemp, rename, rm, stat, writeFile } = require('node:fs/promises');
const { tmpdir } = require('node:os');
const { join, relative, resolve } = require('node:path');
const { promisify } = require('node:util');
const { build } = require('esbuild');

const ROOT = resolve(__dirname, '..');
/** The fuse every official Node binary carries; postject flips it so that Node runs the injected blob. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * Writes the bundle and, unless `executable` is false, the single executable into `outDir`.
 * @param {{ outDir?: string, executable?: boolean, quiet?: boolean }} [options]
 * @returns {Promise<{ bundle: string, bundleBytes: number, executable?: string, executableBytes?: number, ms: number }>}
 */
async function buildAgent({ outDir = join(ROOT, 'dist', 'agent'), executable = true, quiet = false } = {}) {
  const startedAt = Date.now();
  const bundle = join(outDir, 'baton-agent.js');
  await bundleAgent(bundle);
  const result = { bundle, bundleBytes: (await stat(bundle)).size };
  if (executable) {
    result.executable = join(outDir, 'baton-agent');
    await makeSingleExecutable(bundle, result.executable);
    result.executableBytes = (await stat(result.executable)).size;
  }
  result.ms = Date.now() - startedAt;
  if (!quiet) process.stdout.write(describe(result));
  return result;
}

async function bundleAgent(outfile) {
  await build({
    entryPoints: [join(__dirname, 'src', 'main.ts')],
    bundle: true,
    // CommonJS for Node, every package inside: in a single executable `require` only loads Node's builtins.
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    banner: { js: '#!/usr/bin/env node' },
    tsconfig: join(ROOT, 'tsconfig.base.json'),
    minify: false,
    sourcemap: true,
    logLevel: 'warning',
  });
}

/** Node's documented recipe: a preparation blob from the bundle, injected into a copy of this Node binary. */
async function makeSingleExecutable(bundle, target) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) throw new Error(`a single executable needs Node 20 or later to build (this is ${process.version})`);
  const workDir = await mkdtemp(join(tmpdir(), 'baton-sea-'));
  // Written beside the target and renamed at the end: a portal serving the file never sends a half-written one.
  const partial = `${target}.partial`;
  try {
    const config = join(workDir, 'sea-config.json');
    const blob = join(workDir, 'sea-prep.blob');
    await writeFile(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true }));
    await run(process.execPath, ['--experimental-sea-config', config], 'writing the SEA blob');
    await copyFile(process.execPath, partial);
    await chmod(partial, 0o755);
    const postject = require.resolve('postject/dist/cli.js');
    // In a child process: postject is WebAssembly that holds the whole ~100 MB binary in memory while it works.
    await run(
      process.execPath,
      [postject, partial, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE],
      `injecting it into a copy of ${process.execPath}`,
    );
    await rename(partial, target);
  } finally {
    await rm(workDir, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
}

async function run(command, args, what) {
  try {
    await promisify(execFile)(command, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const output = `${err.stderr ?? ''}${err.stdout ?? ''}`.trim();
    throw new Error(`single executable failed while ${what}: ${output || err.message}`);
  }
}

function describe({ bundle, bundleBytes, executable, executableBytes, ms }) {
  const lines = [`wrote ${relative(process.cwd(), bundle)} (${megabytes(bundleBytes)})`];
  if (executable) lines.push(`wrote ${relative(process.cwd(), executable)} (${megabytes(executableBytes)}, single executable)`);
  lines.push(`in ${(ms / 1000).toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}

function megabytes(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

module.exports = { buildAgent };

if (require.main === module) {
  // `--bundle-only`: just the .js bundle (for Node hosts, or a machine whose Node cannot make a single executable).
  buildAgent({ executable: !process.argv.includes('--bundle-only') }).catch((err) => {
    process.stderr.write(`build:agent: ${err.message}\n`);
    process.exit(1);
  });
}
