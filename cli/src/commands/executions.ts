/** `baton executions ls|show|logs|cancel|rerun`. */
import type { Command } from 'commander';
import type { ExecutionDetail, ExecutionSummary, StartedExecution } from '../api-types';
import { collect, examples, type Context } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { followExecution } from '../follow';
import { elapsed, table, when } from '../output';
import { executionDetailText } from '../views';
import { afterStart, exitCodesHelp, parseAssignments, type FollowFlags } from './run';

export function registerExecutionCommands(program: Command, ctx: Context): void {
  const executions = program
    .command('executions')
    .alias('ex')
    .description('list, inspect, follow, cancel and rerun executions')
    .addHelpText('after', examples([['baton executions ls --status failed', 'what failed lately']]));

  executions
    .command('ls')
    .description('executions of the runbooks you may see, newest first')
    .option('-r, --runbook <id>', 'of this runbook only')
    .option('-s, --status <status>', 'queued, running, waiting, succeeded, failed, cancelled or timed_out')
    .option('-j, --job <id>', 'started by this job only')
    .option('-n, --limit <n>', 'at most this many (1-1000)', '20')
    .addHelpText('after', examples([['baton executions ls -r ops.disk-usage -n 5', 'the last five runs of a runbook']]))
    .action(async (options: { runbook?: string; status?: string; job?: string; limit: string }) => {
      const client = await ctx.client();
      const rows = await client.get<ExecutionSummary[]>('/api/v1/executions', { ...options });
      const { out } = ctx.printer;
      ctx.printer.result(rows, () =>
        rows.length === 0
          ? 'no executions'
          : table(
              rows,
              [
                { header: 'ID', value: (e) => e.id },
                { header: 'RUNBOOK', value: (e) => e.runbook, isFlexible: true },
                { header: 'STATUS', value: (e) => e.status, paint: (text, e) => text.replace(e.status, out.status(e.status)) },
                { header: 'BY', value: (e) => e.actor, isFlexible: true },
                { header: 'STARTED', value: (e) => when(e.startedAt ?? e.createdAt) },
                { header: 'TOOK', value: (e) => elapsed(e.startedAt, e.finishedAt) },
              ],
              ctx.terminalWidth,
            ),
      );
    });

  executions
    .command('show')
    .description('one execution: its status, nodes and steps')
    .argument('<id>', 'execution id')
    .action(async (id: string) => {
      const execution = await (await ctx.client()).get<ExecutionDetail>(`/api/v1/executions/${encodeURIComponent(id)}`);
      ctx.printer.result(execution, () => executionDetailText(ctx, execution));
    });

  executions
    .command('logs')
    .description('the log of an execution; with -f, follow it live and exit with the outcome')
    .argument('<id>', 'execution id')
    .option('-f, --follow', 'stream the live log until the execution ends')
    .option('--wait-approval', 'keep following while the run waits for an approval')
    .addHelpText(
      'after',
      examples([['baton executions logs -f 1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed', 'follow a running execution']]) + exitCodesHelp,
    )
    .action(async (id: string, options: { follow?: boolean; waitApproval?: boolean }) => {
      const client = await ctx.client();
      if (!options.follow) {
        const response = await client.request('GET', `/api/v1/executions/${encodeURIComponent(id)}/logs`, { accept: 'text/plain' });
        process.stdout.write(await response.text());
        return;
      }
      const result = await followExecution(ctx, client, id, { isLogShown: true, isApprovalAwaited: options.waitApproval === true });
      ctx.exitCode = result.exitCode;
      if (result.execution && ctx.printer.format === 'json') process.stdout.write(`${JSON.stringify(result.execution)}\n`);
    });

  executions
    .command('cancel')
    .description("cancel an execution (yours, or anyone's with executions:cancel-any)")
    .argument('<id>', 'execution id')
    .action(async (id: string) => {
      const answer = await (await ctx.client()).post<StartedExecution>(`/api/v1/executions/${encodeURIComponent(id)}/cancel`);
      ctx.printer.result(answer, () => `${answer.id} ${ctx.printer.out.status(answer.status)}`);
    });

  executions
    .command('rerun')
    .description('run an execution again: the same runbook version, parameters and targets')
    .argument('<id>', 'execution id')
    .option('--failed-nodes', 'only on the nodes that did not succeed')
    .option('-p, --param <key=value>', 'a parameter given again, e.g. a secret (they are not stored)', collect)
    .option('-f, --follow', 'stream the live log and exit with the outcome')
    .option('-w, --wait', 'wait for the end without the log and exit with the outcome')
    .option('--wait-approval', 'keep waiting while the run waits for an approval')
    .addHelpText(
      'after',
      examples([
        ['baton executions rerun 1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed -f', 'run it again and watch'],
        ['baton executions rerun 1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed --failed-nodes -p password=...', 'retry failed nodes'],
      ]) + exitCodesHelp,
    )
    .action(async (id: string, options: { param?: string[]; failedNodes?: boolean } & FollowFlags) => {
      const client = await ctx.client();
      const body = {
        ...(options.failedNodes ? { onlyFailedNodes: true } : {}),
        ...(options.param ? { params: parseAssignments(options.param, '--param') } : {}),
      };
      const started = await client
        .post<StartedExecution>(`/api/v1/executions/${encodeURIComponent(id)}/rerun`, body)
        .catch((err: unknown) => {
          // 409 here is not "busy": the run cannot be repeated as it was (a secret to give again, a changed runbook).
          if (err instanceof CliError && err.httpStatus === 409)
            throw new CliError(err.message.replace(/^conflict \(409\): /, ''), EXIT.usage);
          throw err;
        });
      await afterStart(ctx, client, started.id, options);
    });
}
