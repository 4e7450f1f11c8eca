/** `baton audit export|verify`. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import type { AuditVerification } from '../api-types';
import { examples, type Context } from '../context';
import { CliError, EXIT } from '../exit-codes';

export function registerAuditCommands(program: Command, ctx: Context): void {
  const audit = program.command('audit').description('the tamper-evident audit log (auditors)');

  audit
    .command('export')
    .description('the audit log, oldest first, as CSV or JSON lines')
    .option('--format <format>', 'csv or jsonl', 'jsonl')
    .option('--since <when>', 'from this time (ISO 8601) or this long ago (24h, 7d)')
    .option('--until <when>', 'up to this time (ISO 8601) or this long ago')
    .option('--actor <name>', 'only what this user, job or hook did')
    .option('--action <action>', 'only this action, or a prefix ending in * (execution.*)')
    .option('--file <path>', 'write to this file instead of stdout')
    .addHelpText(
      'after',
      examples([
        ['baton audit export --format csv --since 7d > audit.csv', 'the last week as CSV'],
        ['baton audit export --since 2026-01-01T00:00:00Z --action "execution.*"', 'executions since a date'],
      ]),
    )
    .action(async (options: { format: string; since?: string; until?: string; actor?: string; action?: string; file?: string }) => {
      if (options.format !== 'csv' && options.format !== 'jsonl')
        throw new CliError(`--format must be csv or jsonl (got "${options.format}")`, EXIT.usage);
      const query = {
        format: options.format,
        from: options.since === undefined ? undefined : await instant(options.since, '--since'),
        to: options.until === undefined ? undefined : await instant(options.until, '--until'),
        actor: options.actor,
        action: options.action,
      };
      const response = await (await ctx.client()).request('GET', '/api/v1/audit/export', { query, accept: '*/*' });
      const target = options.file ? createWriteStream(options.file, { mode: 0o600 }) : process.stdout;
      for await (const chunk of response.body ?? []) if (!target.write(chunk)) await once(target, 'drain');
      if (options.file) await new Promise((resolve) => (target as ReturnType<typeof createWriteStream>).end(resolve));
    });

  audit
    .command('verify')
    .description('check the hash chain of the whole audit log (exit 1 when it was edited)')
    .action(async () => {
      const result = await (await ctx.client()).get<AuditVerification>('/api/v1/audit/verify');
      const { out } = ctx.printer;
      ctx.printer.result(result, () =>
        result.ok
          ? `${out.green('intact')}: ${result.checked} events checked${result.head ? `; last seq ${result.head.seq}, hash ${result.head.hash}` : ''}`
          : `${out.red('BROKEN')} at seq ${result.firstBadSeq}: ${result.reason} (${result.checked} events checked)`,
      );
      if (!result.ok) ctx.exitCode = EXIT.failed;
    });
}

/** An ISO 8601 time as given, or a duration ago (`24h`) as an ISO time. */
async function instant(text: string, flag: string): Promise<string> {
  const { isDuration, parseDuration } = await import('../parser');
  if (isDuration(text)) return new Date(Date.now() - parseDuration(text)).toISOString();
  if (!Number.isNaN(Date.parse(text)) && /^\d{4}-\d{2}-\d{2}/.test(text)) return new Date(text).toISOString();
  throw new CliError(`${flag} must be an ISO 8601 time (2026-01-31T08:00:00Z) or a duration such as 24h or 7d (got "${text}")`, EXIT.usage);
}
