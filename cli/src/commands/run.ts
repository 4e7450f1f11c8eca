/** `baton run`: starts a runbook, and with --follow/--wait stays until it ends and exits with its outcome. */
import type { Command } from 'commander';
import type { ApiClient } from '../api';
import type { ExecutionDetail, StartedExecution, Targets } from '../api-types';
import { collect, examples, type Context } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { followExecution } from '../follow';
import { executionDetailText } from '../views';

export interface FollowFlags {
  follow?: boolean;
  wait?: boolean;
  waitApproval?: boolean;
}

export function registerRunCommand(program: Command, ctx: Context): void {
  program
    .command('run')
    .description('run a runbook; with --follow, stream its log and exit with its outcome')
    .argument('<runbook>', 'runbook id, e.g. ops.disk-usage')
    .option('-p, --param <key=value>', 'a parameter (repeat for more)', collect)
    .option('-t, --target <node>', "run on this node instead of the runbook's targets (repeat for more)", collect)
    .option('-l, --label <key=value>', 'run on the nodes with this label (repeat to require more)', collect)
    .option('--local', "run on the portal's own node")
    .option('-f, --follow', 'stream the live log and exit with the outcome')
    .option('-w, --wait', 'wait for the end without the log and exit with the outcome')
    .option('--wait-approval', 'keep waiting while the run waits for an approval (default: exit 5 there)')
    .addHelpText(
      'after',
      examples([
        ['baton run demo.hello --follow', 'run on its targets and watch the log'],
        ['baton run ops.disk-usage -p path=/var -t web-1 -f', 'one parameter, one node'],
        ['baton run web.restart-nginx -l role=web -p reason="new cert" --wait', 'wait without the log'],
        ['ID=$(baton run ops.log-rotate)', 'start it and keep the execution id'],
      ]) + exitCodesHelp,
    )
    .action(async (runbook: string, options: { param?: string[]; target?: string[]; label?: string[]; local?: boolean } & FollowFlags) => {
      const body = { params: parseAssignments(options.param ?? [], '--param'), targets: parseTargets(options) };
      const client = await ctx.client();
      const started = await client.post<StartedExecution>(`/api/v1/runbooks/${encodeURIComponent(runbook)}/executions`, body);
      await afterStart(ctx, client, started.id, options);
    });
}

export const exitCodesHelp = `
Exit codes with --follow or --wait:
  0 succeeded   1 failed   3 timed out   4 cancelled   5 waiting for approval or rejected
  2 bad input (unknown runbook or parameter)   6 busy (429 queue full, 409)   7 not logged in or not allowed
  8 portal unreachable   130 stopped following (Ctrl-C, the run goes on)
`;

/** After an execution was accepted: follow or wait for it, or print its id (alone on stdout, for scripts). */
export async function afterStart(ctx: Context, client: ApiClient, id: string, flags: FollowFlags): Promise<void> {
  const { printer } = ctx;
  if (!flags.follow && !flags.wait) {
    printer.result({ id }, () => id);
    printer.note(`started execution ${id}: follow it with baton executions logs -f ${id}`);
    return;
  }
  if (flags.follow) printer.note(`started execution ${id}`);
  const result = await followExecution(ctx, client, id, {
    isLogShown: flags.follow === true,
    isApprovalAwaited: flags.waitApproval === true,
  });
  ctx.exitCode = result.exitCode;
  if (!result.execution) return;
  printEnded(ctx, result.execution, flags.follow === true);
}

/** With --wait the result is the execution; with --follow the log was the output, and JSON ends with the execution. */
function printEnded(ctx: Context, execution: ExecutionDetail, isFollowed: boolean): void {
  const { printer } = ctx;
  if (isFollowed) {
    if (printer.format === 'json') process.stdout.write(`${JSON.stringify(execution)}\n`);
    return;
  }
  printer.result(execution, () => executionDetailText(ctx, execution));
}

/** `key=value` pairs as an object; the value may itself hold `=`. */
export function parseAssignments(pairs: string[], flag: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliError(`${flag} must be key=value (got "${pair}")`, EXIT.usage);
    values[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return values;
}

/** --target, --label and --local choose the nodes in place of the runbook's own targets; one kind at a time. */
export function parseTargets(options: { target?: string[]; label?: string[]; local?: boolean }): Targets | undefined {
  const names = options.target ?? [];
  const labels = options.label ?? [];
  const kinds = [names.length > 0, labels.length > 0, options.local === true].filter(Boolean).length;
  if (kinds > 1) throw new CliError('choose nodes with one of --target, --label or --local', EXIT.usage);
  if (names.length > 0) return { names };
  if (labels.length > 0) return { labels: parseAssignments(labels, '--label') };
  if (options.local) return { local: true };
  return undefined;
}
