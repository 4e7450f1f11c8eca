/** `baton nodes ls`, `baton jobs ls|run`, `baton pools ls|scale`. */
import type { Command } from 'commander';
import type { JobRun, JobView, NodeView, PoolAction, PoolView } from '../api-types';
import { examples, type Context } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { labelsText, table, when } from '../output';
import { afterStart, exitCodesHelp, type FollowFlags } from './run';
import { targetsText } from './runbooks';

export function registerFleetCommands(program: Command, ctx: Context): void {
  registerNodes(program, ctx);
  registerJobs(program, ctx);
  registerPools(program, ctx);
}

function registerNodes(program: Command, ctx: Context): void {
  program
    .command('nodes')
    .description('the nodes runbooks run on')
    .command('ls')
    .description('every node with its status and labels')
    .option('-l, --label <key=value>', 'only nodes with this label')
    .addHelpText('after', examples([['baton nodes ls -l role=web', 'the web nodes']]))
    .action(async (options: { label?: string }) => {
      const all = await (await ctx.client()).get<NodeView[]>('/api/v1/nodes');
      const [key, value] = options.label?.split('=') ?? [];
      const rows = options.label ? all.filter((n) => n.labels[key] === value) : all;
      const { out } = ctx.printer;
      ctx.printer.result(rows, () =>
        rows.length === 0
          ? 'no nodes'
          : table(
              rows,
              [
                { header: 'NAME', value: (n) => n.name },
                { header: 'STATUS', value: (n) => n.status, paint: (text, n) => text.replace(n.status, out.status(n.status)) },
                { header: 'EXECUTOR', value: (n) => n.executor },
                { header: 'LABELS', value: (n) => labelsText(n.labels), isFlexible: true },
                { header: 'LAST SEEN', value: (n) => when(n.lastSeen) },
                { header: 'VERSION', value: (n) => n.version ?? '' },
              ],
              ctx.terminalWidth,
            ),
      );
    });
}

function registerJobs(program: Command, ctx: Context): void {
  const jobs = program.command('jobs').description('scheduled jobs');
  jobs
    .command('ls')
    .description('jobs with their schedule and next fire time')
    .action(async () => {
      const rows = await (await ctx.client()).get<JobView[]>('/api/v1/jobs');
      ctx.printer.result(rows, () =>
        rows.length === 0
          ? 'no jobs'
          : table(
              rows,
              [
                { header: 'ID', value: (j) => j.id },
                { header: 'RUNBOOK', value: (j) => j.runbook },
                { header: 'SCHEDULE', value: (j) => `${j.schedule.cron}${j.schedule.timezone ? ` ${j.schedule.timezone}` : ''}` },
                { header: 'ENABLED', value: (j) => (j.enabled ? 'yes' : 'no') },
                { header: 'NEXT', value: (j) => when(j.nextFireTimes[0]) },
                { header: 'TARGETS', value: (j) => targetsText(j.targets), isFlexible: true },
              ],
              ctx.terminalWidth,
            ),
      );
    });
  jobs
    .command('run')
    .description('run a job now, under its concurrency policy (forbid: exit 6 while one runs)')
    .argument('<id>', 'job id')
    .option('-f, --follow', 'stream the live log and exit with the outcome')
    .option('-w, --wait', 'wait for the end without the log and exit with the outcome')
    .option('--wait-approval', 'keep waiting while the run waits for an approval')
    .addHelpText('after', examples([['baton jobs run ops.nightly-cleanup -f', 'run it now and watch']]) + exitCodesHelp)
    .action(async (id: string, options: FollowFlags) => {
      const client = await ctx.client();
      const started = await client.post<JobRun>(`/api/v1/jobs/${encodeURIComponent(id)}/run`);
      await afterStart(ctx, client, started.id, options);
    });
}

function registerPools(program: Command, ctx: Context): void {
  const pools = program.command('pools').description('node pools and scaling');
  pools
    .command('ls')
    .description('pools with their bounds and sizes')
    .action(async () => {
      const rows = await (await ctx.client()).get<PoolView[]>('/api/v1/pools');
      ctx.printer.result(rows, () =>
        rows.length === 0
          ? 'no pools'
          : table(
              rows,
              [
                { header: 'ID', value: (p) => p.id },
                { header: 'NODES', value: (p) => String(p.actual) },
                { header: 'DESIRED', value: (p) => (p.desired === null ? '' : String(p.desired)) },
                { header: 'MIN', value: (p) => String(p.min) },
                { header: 'MAX', value: (p) => String(p.max) },
                { header: 'SELECTOR', value: (p) => labelsText(p.selector.labels), isFlexible: true },
                { header: 'COOLDOWN UNTIL', value: (p) => when(p.cooldownUntil) },
              ],
              ctx.terminalWidth,
            ),
      );
    });
  pools
    .command('scale')
    .description('ask for more or fewer nodes; the provider runbook runs (or the request waits for approval)')
    .argument('<id>', 'pool id')
    .option('--to <n>', 'the size wanted')
    .option('--by <n>', 'nodes to add (negative: to remove)')
    .requiredOption('--reason <text>', 'why, for the audit log and the approvers')
    .option('--force', 'act during the cooldown (admins)')
    .addHelpText(
      'after',
      examples([
        ['baton pools scale web.pool --by 5 --reason "campaign tomorrow"', 'five more nodes'],
        ['baton pools scale web.pool --to 3 --reason "after the campaign"', 'back to three'],
      ]),
    )
    .action(async (id: string, options: { to?: string; by?: string; reason: string; force?: boolean }) => {
      if ((options.to === undefined) === (options.by === undefined)) throw new CliError('give exactly one of --to or --by', EXIT.usage);
      const body = {
        ...(options.to !== undefined ? { to: integer(options.to, '--to') } : { by: integer(options.by!, '--by') }),
        reason: options.reason,
        ...(options.force ? { force: true } : {}),
      };
      const action = await (await ctx.client()).post<PoolAction>(`/api/v1/pools/${encodeURIComponent(id)}/scale`, body);
      const { out } = ctx.printer;
      ctx.printer.result(
        action,
        () =>
          `${action.id} ${out.status(action.status)}: ${action.from} -> ${action.to} nodes${action.message ? ` (${action.message})` : ''}`,
      );
    });
}

function integer(text: string, flag: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new CliError(`${flag} must be a whole number (got "${text}")`, EXIT.usage);
  return Number(text);
}
