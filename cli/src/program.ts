/** The `baton` command tree: every command, its options, its help and examples. */
import { Argument, Command, Option } from 'commander';
import { bashCompletion, zshCompletion } from './completion';
import { examples, type Context, type GlobalOptions } from './context';
import { registerApprovalCommands } from './commands/approvals';
import { registerAuditCommands } from './commands/audit';
import { registerAuthCommands } from './commands/auth';
import { registerExecutionCommands } from './commands/executions';
import { registerFleetCommands } from './commands/fleet';
import { registerLintCommand } from './commands/lint';
import { registerRunbookCommands } from './commands/runbooks';
import { registerRunCommand } from './commands/run';

export const VERSION = '0.1.0';

export function buildProgram(makeContext: (globals: () => GlobalOptions) => Context): { program: Command; ctx: Context } {
  const program = new Command('baton');
  const ctx = makeContext(() => program.opts<GlobalOptions>());
  program
    .description('Baton from the terminal: lint runbooks offline, run them, follow executions, read the audit log.')
    .version(VERSION, '-V, --version')
    .addOption(new Option('-o, --output <format>', 'table (for people) or json (for programs)').choices(['table', 'json']).default('table'))
    .option('--no-color', 'no colours (also: NO_COLOR set, or output not a terminal)')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      examples([
        ['baton login --url https://baton.example.com --user alice', 'once per machine'],
        ['baton lint runbooks/', 'check resource files offline'],
        ['baton run ops.disk-usage -p path=/var --follow', 'run and watch; exit code = outcome'],
        ['baton executions ls --status failed -o json', 'for a script'],
      ]) + '\nScripts set BATON_URL and BATON_TOKEN (an API token) instead of logging in. See docs/cli.md.\n',
    );

  registerAuthCommands(program, ctx);
  registerLintCommand(program, ctx);
  registerRunCommand(program, ctx);
  registerRunbookCommands(program, ctx);
  registerExecutionCommands(program, ctx);
  registerFleetCommands(program, ctx);
  registerApprovalCommands(program, ctx);
  registerAuditCommands(program, ctx);

  program
    .command('completion')
    .description('print the shell completion script for bash or zsh')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .addHelpText(
      'after',
      examples([
        ['source <(baton completion bash)', 'in ~/.bashrc'],
        ['source <(baton completion zsh)', 'in ~/.zshrc, after compinit'],
      ]),
    )
    .action((shell: 'bash' | 'zsh') => {
      process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });

  return { program, ctx };
}
