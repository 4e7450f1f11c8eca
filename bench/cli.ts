/**
 * `node -r ./scripts/register.js bench/cli.ts`: the two figures issue 14 asks of the `baton` CLI, measured on the
 * bundled file (dist/cli/baton, built first) as a user runs it.
 *   lint     `baton lint` on a tree of 1,000 runbooks (goal <= 1 s), wall time of the whole process
 *   startup  from spawning `baton runbooks ls` to its first request reaching the portal (goal <= 150 ms), against a
 *            stub HTTP server; `node -e fetch(...)` on the same machine is the floor Node itself sets
 * Prints medians (and the spread) of several runs; the machine's load is printed too, since both are sensitive to it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const BATON = join(ROOT, 'dist', 'cli', 'baton');
const RUNBOOKS = Number(process.env.BENCH_LINT_RUNBOOKS ?? 1000);
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 15);

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, [join(ROOT, 'cli', 'build.js')], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build:cli failed: ${build.stderr}`);
  process.stdout.write(
    `${build.stdout.trim()}\nmachine: ${cpus().length} CPUs, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, Node ${process.version}\n\n`,
  );

  const lint = await measureLint();
  const size = `${(lint.bytes / 1024 / 1024).toFixed(1)} MB`;
  process.stdout.write(`lint, ${RUNBOOKS} runbooks (${RUNBOOKS / 10} files, ${size}): ${describe(lint.wallMs)}   (goal <= 1000 ms)\n`);
  process.stdout.write(`  CPU time (user + system):             ${describe(lint.cpuMs)}\n`);
  const oneThread = await measureLint(1);
  process.stdout.write(`  on one thread (--jobs 1):             ${describe(oneThread.wallMs)}; CPU ${describe(oneThread.cpuMs)}\n`);
  const startup = await measureStartup([BATON, 'runbooks', 'ls']);
  const floor = await measureStartup([process.execPath, '-e', 'fetch(process.env.BATON_URL + "/api/v1/runbooks")']);
  const sources = await measureStartup([process.execPath, join(ROOT, 'cli', 'bin', 'baton.js'), 'runbooks', 'ls']);
  process.stdout.write(`start-up to first request, bundle:      ${describe(startup)}   (goal <= 150 ms)\n`);
  process.stdout.write(`  node -e fetch(...) on this machine:  ${describe(floor)}\n`);
  process.stdout.write(`  from sources (npx baton):            ${describe(sources)}\n`);
}

/**
 * 1,000 runbooks made from the library's own (runbooks/, cycled, ids renamed), ten per file, with a YAML error in
 * every hundredth file: the size and shape of a real tree. Each run is timed as a whole process, and its CPU time
 * is read too (the wall time on a loaded machine says more about the load than about lint).
 */
async function measureLint(jobs?: number): Promise<{ wallMs: number[]; cpuMs: number[]; bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-bench-lint-'));
  const library = libraryRunbooks();
  const perFile = 10;
  let bytes = 0;
  for (let f = 0; f < RUNBOOKS / perFile; f++) {
    const team = join(dir, `team-${f % 10}`);
    mkdirSync(team, { recursive: true });
    const documents = Array.from({ length: perFile }, (_, i) =>
      library[(f * perFile + i) % library.length].replace(/^id: .*$/m, `id: bench.rb-${f}-${i}`),
    );
    if (f % 100 === 99) documents[0] = documents[0].replace(/^title: .*$/m, 'title: [unclosed');
    const text = documents.join('\n---\n');
    bytes += Buffer.byteLength(text);
    writeFileSync(join(team, `file-${f}.yaml`), text);
  }
  try {
    const wallMs: number[] = [];
    const cpuMs: number[] = [];
    for (let run = 0; run < Math.min(RUNS, 7); run++) {
      const startedAt = process.hrtime.bigint();
      const result = spawnSync('/usr/bin/time', ['-f', '%U %S', BATON, 'lint', ...(jobs ? ['--jobs', String(jobs)] : []), dir], {
        encoding: 'utf8',
      });
      wallMs.push(Number(process.hrtime.bigint() - startedAt) / 1e6);
      if (result.status !== 1 || !result.stderr.includes(`${RUNBOOKS / perFile} files`))
        throw new Error(`unexpected lint result: ${result.stderr}`);
      const [user, system] = result.stderr.trim().split('\n').pop()!.split(' ').map(Number);
      cpuMs.push((user + system) * 1000);
    }
    return { wallMs, cpuMs, bytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every `kind: Runbook` document of the library. */
function libraryRunbooks(): string[] {
  const root = join(ROOT, 'runbooks');
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'));
  return files
    .flatMap((file) => readFileSync(join(root, file), 'utf8').split(/^---$/m))
    .filter((document) => /^kind: Runbook$/m.test(document));
}

/** Milliseconds from spawn to the first request at a stub portal, per run. */
async function measureStartup(command: string[]): Promise<number[]> {
  let arrived: (() => void) | undefined;
  const server: Server = createServer((req, res) => {
    arrived?.();
    res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const times: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const startedAt = process.hrtime.bigint();
      const request = new Promise<number>((resolve) => (arrived = () => resolve(Number(process.hrtime.bigint() - startedAt) / 1e6)));
      const child = spawn(command[0], command.slice(1), {
        env: { PATH: process.env.PATH, HOME: tmpdir(), BATON_URL: url, BATON_TOKEN: 'bt_bench' },
        stdio: 'ignore',
      });
      times.push(await request);
      await new Promise((resolve) => child.on('close', resolve));
    }
  } finally {
    server.close();
  }
  return times;
}

function describe(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `median ${median.toFixed(0)} ms (min ${sorted[0].toFixed(0)}, max ${sorted[sorted.length - 1].toFixed(0)}, ${times.length} runs)`;
}

main().catch((err: Error) => {
  process.stderr.write(`bench/cli: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
