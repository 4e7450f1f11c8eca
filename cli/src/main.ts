/**
 * `baton`, the command-line client of the Baton portal. Reads the environment once, runs one command, and exits
 * with a code that says how it went (see exit-codes.ts); errors are one line on stderr saying what to do.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { CommanderError } from 'commander';
import { Context } from './context';
import { CliError, EXIT, type ExitCode } from './exit-codes';
import { buildProgram } from './program';
import type { CliEnv } from './session';

async function main(argv: string[]): Promise<ExitCode> {
  const env: CliEnv = {
    BATON_URL: process.env.BATON_URL,
    BATON_TOKEN: process.env.BATON_TOKEN,
    XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME,
    HOME: process.env.HOME,
    NO_COLOR: process.env.NO_COLOR,
    RUNBOOKS_DIR: process.env.RUNBOOKS_DIR,
  };
  const { program, ctx } = buildProgram((globals) => new Context(env, globals));
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    return exitCodeOf(err);
  }
}

function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof CommanderError) {
    // Commander has printed the message (or the help) already.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof CliError) {
    process.stderr.write(`baton: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`baton: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
  return EXIT.failed;
}

/** Exits once stdout and stderr have taken everything written (a pipe may still hold output). */
function exitWhenFlushed(code: ExitCode): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

// `baton lint` starts this same file in worker threads to parse a large tree on every CPU.
if (isMainThread) void main(process.argv).then(exitWhenFlushed);
else void import('./parser').then((parser) => (parser.isLintWorkerData(workerData) ? parser.lintWorker() : undefined));
