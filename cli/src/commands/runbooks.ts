/** `baton runbooks ls|show`. */
import type { Command } from 'commander';
import type { RunbookDetail, RunbookSummary } from '../api-types';
import { examples, type Context } from '../context';
import { fields, labelsText, table } from '../output';

export function registerRunbookCommands(program: Command, ctx: Context): void {
  const runbooks = program.command('runbooks').alias('rb').description('the runbooks you may see');

  runbooks
    .command('ls')
    .description('list runbooks')
    .option('--namespace <ns>', 'only this namespace')
    .addHelpText('after', examples([['baton runbooks ls --namespace ops', 'the ops runbooks']]))
    .action(async (options: { namespace?: string }) => {
      const all = await (await ctx.client()).get<RunbookSummary[]>('/api/v1/runbooks');
      const rows = options.namespace ? all.filter((r) => r.namespace === options.namespace) : all;
      ctx.printer.result(rows, () =>
        rows.length === 0
          ? 'no runbooks'
          : table(
              rows,
              [
                { header: 'ID', value: (r) => r.id },
                { header: 'TITLE', value: (r) => r.title, isFlexible: true },
                { header: 'PARAMS', value: (r) => Object.keys(r.params).join(','), isFlexible: true },
                { header: 'TARGETS', value: (r) => targetsText(r.targets), isFlexible: true },
              ],
              ctx.terminalWidth,
            ),
      );
    });

  runbooks
    .command('show')
    .description('one runbook: parameters, targets and steps')
    .argument('<id>', 'runbook id')
    .addHelpText('after', examples([['baton runbooks show ops.disk-usage -o json', 'the whole definition as JSON']]))
    .action(async (id: string) => {
      const runbook = await (await ctx.client()).get<RunbookDetail>(`/api/v1/runbooks/${encodeURIComponent(id)}`);
      ctx.printer.result(runbook, () => runbookText(ctx, runbook));
    });
}

function runbookText(ctx: Context, r: RunbookDetail): string {
  const head = fields([
    ['id', r.id],
    ['title', r.title],
    ['description', r.description],
    ['version', r.version.slice(0, 12)],
    ['file', r.sourceFile],
    ['targets', targetsText(r.targets)],
    ['timeout', r.timeout],
  ]);
  const params = Object.entries(r.params ?? {});
  const paramTable = table(
    params,
    [
      { header: 'PARAM', value: ([name]) => name },
      { header: 'TYPE', value: ([, spec]) => spec.type },
      { header: 'REQUIRED', value: ([, spec]) => ('required' in spec && spec.required ? 'yes' : '') },
      { header: 'DEFAULT', value: ([, spec]) => ('default' in spec && spec.default !== undefined ? String(spec.default) : '') },
      { header: 'DESCRIPTION', value: ([, spec]) => ('description' in spec ? String(spec.description ?? '') : ''), isFlexible: true },
    ],
    ctx.terminalWidth,
  );
  const steps = table(
    r.steps,
    [
      { header: 'STEP', value: (s) => s.id },
      { header: 'NEEDS', value: (s) => (s.needs ?? []).join(',') },
      { header: 'RUNS', value: (s) => ('run' in s && s.run ? s.run : JSON.stringify(s)), isFlexible: true },
    ],
    ctx.terminalWidth,
  );
  return [head, paramTable, steps].filter(Boolean).join('\n\n');
}

export function targetsText(targets: RunbookSummary['targets']): string {
  if (!targets) return '';
  if (targets.local) return 'local';
  if (targets.names) return targets.names.join(',');
  if (targets.labels) return labelsText(targets.labels);
  return '';
}
