/**
 * Following an execution to its end: the live log (server-sent events) or just the outcome, the exit code for
 * that outcome, and Ctrl-C, which asks whether to cancel the run or only to stop following it.
 */
import type { ApiClient } from './api';
import type { ExecutionDetail, LogEvent } from './api-types';
import type { Context } from './context';
import { EXIT, exitCodeForStatus, type ExitCode } from './exit-codes';
import { elapsed } from './output';
import { confirm } from './prompt';

export interface FollowOptions {
  /** Print the log as it comes (`--follow`), or only wait for the outcome (`--wait`). */
  isLogShown: boolean;
  /** Keep waiting while the execution waits for a person; otherwise stop there with exit code 5. */
  isApprovalAwaited: boolean;
}

/** How often the status is read besides the stream: the stream does not say when an execution starts waiting. */
const STATUS_POLL_MS = 2000;
const RECONNECTS = 5;

type Ending = { kind: 'status'; status: string } | { kind: 'detached' };

export interface FollowResult {
  exitCode: ExitCode;
  /** The execution as it ended (or as it waits); undefined when the CLI stopped following. */
  execution?: ExecutionDetail;
}

export async function followExecution(ctx: Context, client: ApiClient, id: string, options: FollowOptions): Promise<FollowResult> {
  const printer = ctx.printer;
  const log = new LogPrinter(ctx);
  const stop = new AbortController();
  let ending: Ending | undefined;
  const end = (value: Ending) => {
    ending ??= value;
    stop.abort();
  };

  const onInterrupt = interruptHandler(id, client, log, end);
  process.on('SIGINT', onInterrupt);
  const poll = setInterval(() => {
    void client
      .get<ExecutionDetail>(`/api/v1/executions/${id}`)
      .then((e) => {
        if (e.status === 'waiting' && !options.isApprovalAwaited) end({ kind: 'status', status: 'waiting' });
      })
      .catch(() => undefined);
  }, STATUS_POLL_MS);
  try {
    await streamUntilEnd(client, id, stop.signal, (event) => options.isLogShown && log.print(event), end);
  } finally {
    clearInterval(poll);
    process.off('SIGINT', onInterrupt);
    log.flush();
  }

  if (ending?.kind === 'detached') {
    printer.note(`stopped following; the execution goes on: baton executions logs -f ${id}`);
    return { exitCode: EXIT.interrupted };
  }
  const execution = await client.get<ExecutionDetail>(`/api/v1/executions/${id}`);
  const status = ending?.kind === 'status' && ending.status === 'waiting' ? 'waiting' : execution.status;
  describeEnd(ctx, execution, status);
  return { exitCode: exitCodeForStatus(status) ?? EXIT.failed, execution };
}

/**
 * Reads the live log until its `end` event. A dropped connection is opened again; the stream then starts over
 * from the first chunk, so the chunks already handed on are skipped.
 */
async function streamUntilEnd(
  client: ApiClient,
  id: string,
  signal: AbortSignal,
  onLog: (event: LogEvent) => void,
  end: (ending: Ending) => void,
): Promise<void> {
  let seen = 0;
  for (let attempt = 0; attempt <= RECONNECTS && !signal.aborted; attempt++) {
    let index = 0;
    try {
      for await (const event of client.events(`/api/v1/executions/${id}/logs`, { follow: 1 }, signal)) {
        if (event.event === 'end') return end({ kind: 'status', status: (JSON.parse(event.data) as { status: string }).status });
        if (event.event !== 'log') continue;
        if (index++ < seen) continue;
        seen++;
        onLog(JSON.parse(event.data) as LogEvent);
      }
    } catch (err) {
      if (signal.aborted) return;
      if (attempt === RECONNECTS) throw err;
    }
    if (signal.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
  }
}

/** Ctrl-C: ask whether to cancel. Yes cancels and follows to the end; no (or end of input) stops following. A second Ctrl-C leaves at once. */
function interruptHandler(id: string, client: ApiClient, log: LogPrinter, end: (ending: Ending) => void): () => void {
  let isAsking = false;
  return () => {
    if (isAsking) {
      process.stderr.write('\n');
      process.exit(EXIT.interrupted);
    }
    isAsking = true;
    log.hold();
    process.stderr.write('\n');
    void confirm(`cancel execution ${id}?`)
      .then(async (isYes) => {
        if (!isYes) return end({ kind: 'detached' });
        await client.post(`/api/v1/executions/${id}/cancel`);
        process.stderr.write(`cancelling ${id}...\n`);
      })
      .catch((err: Error) => process.stderr.write(`could not cancel: ${err.message}\n`))
      .finally(() => {
        isAsking = false;
        log.release();
      });
  };
}

function describeEnd(ctx: Context, execution: ExecutionDetail, status: string): void {
  const { printer } = ctx;
  const took = elapsed(execution.startedAt ?? execution.createdAt, execution.finishedAt);
  if (status === 'waiting') {
    printer.note(
      `execution ${execution.id} is ${printer.err.yellow('waiting')} for approval: decide with baton approvals approve|reject ${execution.id}; ` +
        `follow it with baton executions logs -f --wait-approval ${execution.id}`,
    );
    return;
  }
  const reason = execution.reason ? `: ${execution.reason}` : '';
  printer.note(`execution ${execution.id} ${printer.err.status(status)}${took ? ` in ${took}` : ''}${reason}`);
}

/**
 * The live log on stdout (stderr chunks on stderr), each line tagged with its node and step. Chunks may end
 * mid-line: the rest waits for the next chunk of the same stream. While a question is on screen, lines are held.
 */
class LogPrinter {
  private readonly partial = new Map<string, string>();
  private held: [NodeJS.WriteStream, string][] | undefined;

  constructor(private readonly ctx: Context) {}

  print(event: LogEvent): void {
    // JSON lines all go to stdout, one object per chunk, for a program to read in order.
    if (this.ctx.printer.format === 'json') return this.write(process.stdout, `${JSON.stringify(event)}\n`);
    const target = event.stream === 'stderr' ? process.stderr : process.stdout;
    const key = `${event.node}\u0000${event.step}\u0000${event.stream}`;
    const text = (this.partial.get(key) ?? '') + event.data;
    const lines = text.split('\n');
    this.partial.set(key, lines.pop() ?? '');
    const styles = target === process.stderr ? this.ctx.printer.err : this.ctx.printer.out;
    const tag = styles.dim(`[${event.node}/${event.step}]`);
    for (const line of lines) this.write(target, `${tag} ${line}\n`);
  }

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const [target, text] of held) target.write(text);
  }

  flush(): void {
    this.release();
    for (const [key, rest] of this.partial) {
      if (rest === '') continue;
      const [node, step, stream] = key.split('\u0000');
      const target = stream === 'stderr' ? process.stderr : process.stdout;
      target.write(`[${node}/${step}] ${rest}\n`);
    }
    this.partial.clear();
  }

  private write(target: NodeJS.WriteStream, text: string): void {
    if (this.held) this.held.push([target, text]);
    else target.write(text);
  }
}
