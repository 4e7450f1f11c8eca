/** `baton approvals ls|approve|reject`: runs that wait for a person's decision. */
import type { Command } from 'commander';
import type { ApprovalView, PendingApproval } from '../api-types';
import { examples, type Context } from '../context';
import { table, when } from '../output';

export function registerApprovalCommands(program: Command, ctx: Context): void {
  const approvals = program.command('approvals').description('runs waiting for approval that you may decide');

  approvals
    .command('ls')
    .description('the runs waiting for your decision, oldest first')
    .action(async () => {
      const rows = await (await ctx.client()).get<PendingApproval[]>('/api/v1/approvals');
      ctx.printer.result(rows, () =>
        rows.length === 0
          ? 'nothing waits for your approval'
          : table(
              rows,
              [
                { header: 'EXECUTION', value: (a) => a.id },
                { header: 'RUNBOOK', value: (a) => a.runbook, isFlexible: true },
                { header: 'BY', value: (a) => a.actor, isFlexible: true },
                {
                  header: 'APPROVALS',
                  value: (a) => `${a.approval.decisions.filter((d) => d.decision === 'approved').length}/${a.approval.required}`,
                },
                { header: 'ASKED', value: (a) => when(a.createdAt) },
                { header: 'DECIDE BY', value: (a) => when(a.approval.timeoutAt) },
              ],
              ctx.terminalWidth,
            ),
      );
    });

  approvals
    .command('approve')
    .description('approve a run; with enough approvals it starts')
    .argument('<execution>', 'execution id')
    .option('-m, --comment <text>', 'why (kept with the decision)')
    .addHelpText(
      'after',
      examples([['baton approvals approve 1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed -m "change CHG-42"', 'approve with a note']]),
    )
    .action(async (id: string, options: { comment?: string }) => decide(ctx, id, 'approve', options.comment));

  approvals
    .command('reject')
    .description('reject a run: it ends rejected and never starts')
    .argument('<execution>', 'execution id')
    .requiredOption('-m, --comment <text>', 'why (required)')
    .addHelpText('after', examples([['baton approvals reject 1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed -m "not during the freeze"', 'reject']]))
    .action(async (id: string, options: { comment: string }) => decide(ctx, id, 'reject', options.comment));
}

async function decide(ctx: Context, id: string, decision: 'approve' | 'reject', comment: string | undefined): Promise<void> {
  const approval = await (
    await ctx.client()
  ).post<ApprovalView>(`/api/v1/executions/${encodeURIComponent(id)}/${decision}`, comment ? { comment } : {});
  const approvals = approval.decisions.filter((d) => d.decision === 'approved').length;
  ctx.printer.result(approval, () =>
    decision === 'reject'
      ? `rejected ${id}`
      : `approved ${id} (${approvals} of ${approval.required} approvals${approvals >= approval.required ? ': it starts' : ''})`,
  );
}
