/** `baton lint`: the portal's load errors, offline. */
import type { Command } from 'commander';
import { examples, type Context } from '../context';
import { CliError, EXIT } from '../exit-codes';

export function registerLintCommand(program: Command, ctx: Context): void {
  program
    .command('lint')
    .description("check resource files offline with the portal's parser; prints file:line:col: message, exit 1 on any")
    .argument('[paths...]', 'files or directories (default: RUNBOOKS_DIR or ./runbooks)')
    .option('-j, --jobs <n>', 'threads parsing a large tree (default: one per CPU from 4 CPUs on, else 1)')
    .addHelpText(
      'after',
      examples([
        ['baton lint', 'the runbooks directory'],
        ['baton lint runbooks/ops web.yaml', 'a directory and a file'],
        ['baton lint --jobs 1 -o json', 'one thread; the problems as JSON'],
        ['git diff --cached --name-only -- "*.yaml" | xargs -r baton lint', 'a pre-commit hook'],
      ]),
    )
    .action(async (paths: string[], options: { jobs?: string }) => {
      const workers = options.jobs === undefined ? undefined : Number(options.jobs);
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) {
        throw new CliError(`--jobs must be a whole number of at least 1 (got "${options.jobs}")`, EXIT.usage);
      }
      // Loaded only here: the parser and its schemas are most of the CLI's code, and other commands do not need them.
      const { formatLoadError, lintPaths } = await import('../parser');
      const result = await lintPaths(paths.length > 0 ? paths : [ctx.env.RUNBOOKS_DIR ?? 'runbooks'], {
        workerEntry: process.argv[1],
        workers,
      });
      const { printer } = ctx;
      printer.result(result.errors, () => result.errors.map(formatLoadError).join('\n'));
      const problems = result.errors.length;
      const summary = `${result.files} files, ${result.resources} resources: ${problems === 0 ? 'no problems' : `${problems} problem${problems === 1 ? '' : 's'}`}`;
      printer.note(problems === 0 ? printer.err.green(summary) : printer.err.red(summary));
      if (problems > 0) ctx.exitCode = EXIT.failed;
    });
}
