/** Text renderings of the API's records that more than one command prints. */
import type { ExecutionDetail } from './api-types';
import type { Context } from './context';
import { elapsed, fields, table, when } from './output';

export function executionDetailText(ctx: Context, e: ExecutionDetail): string {
  const { out } = ctx.printer;
  const head = fields([
    ['id', e.id],
    ['runbook', `${e.runbook} (version ${e.runbookVersion.slice(0, 12)})`],
    ['status', `${out.status(e.status)}${e.reason ? ` (${e.reason})` : ''}`],
    ['trigger', `${e.trigger.type}${e.actor ? ` by ${e.actor}` : ''}`],
    [
      'params',
      Object.entries(e.params)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    ],
    ['rerun of', e.rerunOf],
    ['rerun as', e.reruns?.join(' ')],
    ['created', when(e.createdAt)],
    ['took', elapsed(e.startedAt, e.finishedAt)],
  ]);
  const steps = e.nodes.flatMap((n) => (n.steps.length > 0 ? n.steps : [undefined]).map((s) => ({ node: n, step: s })));
  const nodes = table(
    steps,
    [
      { header: 'NODE', value: (r) => r.node.node },
      { header: 'NODE STATUS', value: (r) => r.node.status, paint: (text, r) => text.replace(r.node.status, out.status(r.node.status)) },
      { header: 'STEP', value: (r) => r.step?.id ?? '' },
      {
        header: 'STEP STATUS',
        value: (r) => r.step?.status ?? '',
        paint: (text, r) => (r.step ? text.replace(r.step.status, out.status(r.step.status)) : text),
      },
      { header: 'EXIT', value: (r) => (r.step?.exitCode ?? '').toString() },
      { header: 'TRIES', value: (r) => (r.step ? String(r.step.attempts) : '') },
      { header: 'NOTE', value: (r) => r.step?.error ?? r.node.reason ?? '', isFlexible: true },
    ],
    ctx.terminalWidth,
  );
  return nodes ? `${head}\n\n${nodes}` : head;
}
