/**
 * Runs a node run's steps on a remote machine over one SSH connection: the `StepHost` of agentless nodes, so the
 * shared executor keeps the semantics (DAG, retries, timeouts, outputs, masking, events) in one place.
 *
 * Every SSH session costs the target a fork and a login shell (which may read a heavy ~/.bashrc), so a step is
 * exactly one session and the run adds none. The step's wrapper script creates the scratch directory (first steps
 * only; its name is chosen here, unguessable, mode 700), empties the output file, prints its pid, runs the
 * command, then prints a marker line, the output file and a closing marker with the exit code, all on the step's
 * own stdout (`StepStream` splits them apart again). Then it waits on stdin: `keep` when another step has started,
 * anything else (`rm`, or end of file because the portal or the connection went away) removes the scratch
 * directory. So the last step's session does the clean-up, and a run the portal lost does not leave it behind.
 *
 * sshd ignores `env` requests, so the command's variables are exported by the script, every value single-quoted
 * (`exportStatement`), in a subshell so that they cannot change how the wrapper itself works. sshd makes each
 * session's shell a process group leader and the wrapper `exec`s into /bin/sh, so its pid names the group: a
 * timeout or a cancel kills the whole group through a second session, not just the channel.
 */
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import { exportStatement, shellQuote, type StepCommand, type StepHost, type StepResult } from '@baton/shared/node';
import { Semaphore } from './semaphore';

/** After SIGTERM the remote group gets this long before SIGKILL (as on agents). */
const KILL_GRACE_MS = 2000;
/** The wrapper's own failures (scratch directory, output file, working directory): the command never ran. */
const WRAPPER_FAILED = 125;
/** A refused session is tried again this often, this many times (sshd frees closed sessions a moment late). */
const SESSION_RETRIES = 20;
const SESSION_RETRY_MS = 50;
/** How long the end of a run waits for the last steps' sessions to remove the scratch directory. */
const CLEANUP_WAIT_MS = 5000;

export interface ExecResult {
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export class SshStepHost implements StepHost {
  /** `/tmp` rather than the remote $TMPDIR: the path must be known here, before anything runs there. */
  readonly workdir = `/tmp/baton-${randomBytes(12).toString('hex')}`;
  /** Set once a step has reported its pid, which it does only after the scratch directory exists. */
  private workdirExists = false;
  /** Sessions of finished steps, waiting to hear whether the run goes on (`keep`) or is over (`rm`). */
  private readonly parked = new Set<ClientChannel>();
  /** Resolves when the parked sessions told to `keep` have closed. */
  private releasing: Promise<void> = Promise.resolve();

  /** Steps in flight (running or parked) hold a session each; one more is kept for `kill`. */
  private readonly sessions: Semaphore;

  constructor(
    private readonly client: Client,
    maxSessions = 10,
  ) {
    this.sessions = new Semaphore(maxSessions - 1);
  }

  async makeWorkdir(): Promise<string> {
    return this.workdir;
  }

  async removeWorkdir(): Promise<void> {
    const parked = [...this.parked];
    this.parked.clear();
    if (parked.length > 0) {
      await Promise.all(parked.map((channel) => closed(channel, () => channel.end('rm\n'), CLEANUP_WAIT_MS)));
    } else if (this.workdirExists) {
      // The last step was killed or lost its session before it could clean up.
      await this.exec(`rm -rf ${shellQuote(this.workdir)}`).catch(() => undefined);
    }
  }

  async runStep(spec: StepCommand): Promise<StepResult> {
    // Finished steps' sessions end before a new one opens: sshd allows few sessions per connection (MaxSessions,
    // 10 by default), and parallel steps must not find them taken by steps that are done.
    if (this.parked.size > 0) {
      const parked = [...this.parked];
      this.parked.clear();
      this.releasing = Promise.all(parked.map((channel) => closed(channel, () => channel.end('keep\n'), CLEANUP_WAIT_MS))).then(
        () => undefined,
      );
    }
    await this.releasing;
    await this.sessions.acquire();
    if (spec.signal.aborted) {
      // Cancelled while it waited for a session: it never starts.
      this.sessions.release();
      return { exitCode: null, stoppedBy: 'cancel', outputText: '' };
    }
    return this.start(spec);
  }

  /** Runs the step in a session slot already acquired; the slot is released when its session closes. */
  private start(spec: StepCommand): Promise<StepResult> {
    const marker = `baton-marker-${randomBytes(12).toString('hex')}`;
    const script = this.wrapper(spec, marker);

    return new Promise((resolve) => {
      let settled = false;
      let stoppedBy: StepResult['stoppedBy'];
      let killTimer: NodeJS.Timeout | undefined;
      let exit: { code: number | null; signal?: string } | undefined;
      const output = new WrapperOutput(marker, (stream, text) => {
        if (!settled) spec.onOutput(stream, text);
      });
      const stop = (reason: 'timeout' | 'cancel') => {
        if (stoppedBy || settled) return;
        stoppedBy = reason;
        void this.killGroup(output.pid, 'TERM');
        killTimer = setTimeout(() => void this.killGroup(output.pid, 'KILL'), KILL_GRACE_MS);
      };
      const timeoutTimer = spec.timeoutMs ? setTimeout(() => stop('timeout'), spec.timeoutMs) : undefined;
      const onAbort = () => stop('cancel');
      const finish = (result: Omit<StepResult, 'stoppedBy' | 'outputText'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeoutTimer);
        clearTimeout(killTimer);
        spec.signal.removeEventListener('abort', onAbort);
        // As on agents: children that outlived the shell while holding no output stream must not survive a stop.
        if (stoppedBy) void this.killGroup(output.pid, 'KILL');
        resolve({ ...result, stoppedBy, outputText: output.outputText });
      };

      const follow = (channel: ClientChannel) => {
        if (spec.signal.aborted) onAbort();
        else spec.signal.addEventListener('abort', onAbort, { once: true });
        output.onDone = (exitCode) => {
          // A step waiting for a session means the run goes on: no need to park this one.
          if (this.sessions.isContended) channel.end('keep\n');
          else this.parked.add(channel);
          finish({ exitCode });
        };
        decodeText(channel, (text) => {
          output.pushStdout(text);
          if (output.pidKnown) this.workdirExists = true;
        });
        decodeText(channel.stderr, (text) => output.pushStderr(text));
        channel.on('exit', (code: number | null, signal?: string) => (exit = { code, signal }));
        channel.on('close', () => {
          this.parked.delete(channel);
          this.sessions.release();
          output.end();
          finish({
            exitCode: exit ? (exit.code ?? (exit.signal ? 128 + signalNumber(exit.signal) : null)) : null,
            error: exit || stoppedBy ? undefined : 'the SSH connection closed before the step ended',
          });
        });
      };
      void this.openSession(`exec /bin/sh -c ${shellQuote(script)}`).then(
        (channel) => follow(channel),
        (err: Error) => {
          this.sessions.release();
          finish({ exitCode: null, error: `could not start the step over SSH: ${err.message}` });
        },
      );
    });
  }

  /**
   * Opens a session for `command`. sshd frees a closed session's slot a moment after the close (once it has
   * reaped the process), so a refusal right after sessions closed is retried briefly before it counts.
   */
  private async openSession(command: string): Promise<ClientChannel> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await new Promise<ClientChannel>((resolve, reject) =>
          this.client.exec(command, (err, channel) => (err ? reject(err) : resolve(channel))),
        );
      } catch (err) {
        if (!/open failed/i.test((err as Error).message) || attempt >= SESSION_RETRIES) {
          throw new Error(
            /open failed/i.test((err as Error).message)
              ? `the node refused another SSH session (its sshd allows fewer sessions per connection than BATON_SSH_MAX_SESSIONS: check MaxSessions)`
              : (err as Error).message,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, SESSION_RETRY_MS));
      }
    }
  }

  /** The step's wrapper script (see the top of this file); `marker` is random per step. */
  private wrapper(spec: StepCommand, marker: string): string {
    const dir = shellQuote(this.workdir);
    const out = shellQuote(spec.outputFile);
    const exports = exportStatement(spec.env);
    return [
      ...(this.workdirExists
        ? []
        : [
            // Steps started together all try; the losers accept the directory only if it is ours and not a link.
            `if ! mkdir -m 700 ${dir} 2>/dev/null; then if [ ! -d ${dir} ] || [ -h ${dir} ] || [ ! -O ${dir} ]; then ` +
              `echo "baton: cannot create the scratch directory ${this.workdir}" >&2; exit ${WRAPPER_FAILED}; fi; fi`,
          ]),
      `: > ${out} || exit ${WRAPPER_FAILED}`,
      'echo $$',
      `(cd ${shellQuote(spec.cwd)} || exit ${WRAPPER_FAILED}`,
      ...(exports ? [exports] : []),
      `exec ${shellQuote(spec.shell)} -c ${shellQuote(spec.command)}) </dev/null`,
      'rc=$?',
      `printf '%s\\n' ${marker} >&2`,
      `printf '%s\\n' ${marker}`,
      `[ -s ${out} ] && cat ${out}`,
      `printf '\\n%s %s\\n' ${marker} "$rc"`,
      'read -r next',
      `[ "$next" = keep ] || rm -rf ${dir}`,
      'exit "$rc"',
    ].join('\n');
  }

  /** Signals the step's process group, once its pid is known (never, when the wrapper did not get that far). */
  private async killGroup(pid: Promise<number | undefined>, signal: 'TERM' | 'KILL'): Promise<void> {
    const group = await pid;
    if (group === undefined) return;
    await this.exec(`kill -s ${signal} -- -${group} 2>/dev/null; true`).catch(() => undefined);
  }

  /** Runs a short command and collects its output (the helpers around steps: kill, rm). */
  async exec(command: string): Promise<ExecResult> {
    const channel = await this.openSession(command);
    return new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      let exit: { code: number | null; signal?: string } = { code: null };
      channel.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      channel.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      channel.on('exit', (code: number | null, signal?: string) => (exit = { code, signal }));
      channel.on('close', () => resolve({ exitCode: exit.code, signal: exit.signal, stdout, stderr }));
    });
  }
}

/**
 * Splits a step wrapper's output into its parts. stdout: the pid line; the step's own output, passed on as it
 * arrives; after the marker line, the output file's text up to the closing marker line, which carries the exit
 * code. stderr: the step's own output up to the marker line, so that none of it can arrive after the step is
 * reported done. Without markers (the step was killed) everything after the pid line is the step's output.
 */
export class WrapperOutput {
  /** The wrapper's pid (its process group), or undefined when the stream ended before it. */
  readonly pid: Promise<number | undefined>;
  pidKnown = false;
  /** What the step wrote to its output file, once the closing marker has arrived. */
  outputText = '';
  /** Called once with the command's exit code, when both streams have reached their markers. */
  onDone?: (exitCode: number) => void;
  private pidLine: string | undefined = '';
  private exitCode?: number;
  private resolvePid!: (pid: number | undefined) => void;
  private readonly stdout: MarkerSplitter;
  private readonly stderr: MarkerSplitter;
  private readonly closing: RegExp;

  constructor(marker: string, onOutput: (stream: 'stdout' | 'stderr', text: string) => void) {
    this.pid = new Promise((resolve) => (this.resolvePid = resolve));
    this.stdout = new MarkerSplitter(marker, (text) => onOutput('stdout', text));
    this.stderr = new MarkerSplitter(marker, (text) => onOutput('stderr', text));
    this.closing = new RegExp(`\\n${marker} (\\d+)\\n`);
  }

  pushStdout(text: string): void {
    if (this.pidLine !== undefined) {
      this.pidLine += text;
      const newline = this.pidLine.indexOf('\n');
      if (newline < 0) return;
      const pid = Number(this.pidLine.slice(0, newline));
      this.pidKnown = Number.isInteger(pid) && pid > 1;
      this.resolvePid(this.pidKnown ? pid : undefined);
      text = this.pidLine.slice(newline + 1);
      this.pidLine = undefined;
    }
    this.stdout.push(text);
    const closing = this.stdout.found && this.exitCode === undefined ? this.closing.exec(this.stdout.rest) : null;
    if (closing) {
      this.outputText = this.stdout.rest.slice(0, closing.index);
      this.exitCode = Number(closing[1]);
    }
    this.checkDone();
  }

  pushStderr(text: string): void {
    this.stderr.push(text);
    this.checkDone();
  }

  /** The streams ended: what was held back as a possible marker was the step's output after all. */
  end(): void {
    if (this.pidLine !== undefined) this.resolvePid(undefined);
    this.stdout.end();
    this.stderr.end();
  }

  private checkDone(): void {
    if (this.exitCode === undefined || !this.stderr.found || !this.onDone) return;
    const done = this.onDone;
    this.onDone = undefined;
    done(this.exitCode);
  }
}

/**
 * Passes text on until `marker` and a newline, holding back only what could be their beginning. The marker does not
 * start a line of its own: the step's output may not end with a newline, and holding back every line's final
 * newline would glue stderr lines onto stdout lines in the log.
 */
class MarkerSplitter {
  found = false;
  /** What came after the marker line. */
  rest = '';
  private held = '';
  private readonly separator: string;

  constructor(
    marker: string,
    private readonly onText: (text: string) => void,
  ) {
    this.separator = `${marker}\n`;
  }

  push(text: string): void {
    if (this.found) {
      this.rest += text;
      return;
    }
    this.held += text;
    const at = this.held.indexOf(this.separator);
    if (at >= 0) {
      this.emit(this.held.slice(0, at));
      this.rest = this.held.slice(at + this.separator.length);
      this.held = '';
      this.found = true;
      return;
    }
    const keep = partialMatchLength(this.held, this.separator);
    this.emit(this.held.slice(0, this.held.length - keep));
    this.held = this.held.slice(this.held.length - keep);
  }

  end(): void {
    this.emit(this.held);
    this.held = '';
  }

  private emit(text: string): void {
    if (text) this.onText(text);
  }
}

/** The length of the longest end of `text` that is a beginning of `separator` (shorter than all of it). */
function partialMatchLength(text: string, separator: string): number {
  for (let n = Math.min(text.length, separator.length - 1); n > 0; n--) {
    if (separator.startsWith(text.slice(text.length - n))) return n;
  }
  return 0;
}

/** Resolves when `channel` has closed after `act`, or after `timeoutMs` at the latest. */
function closed(channel: ClientChannel, act: () => void, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    channel.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    act();
  });
}

/** Text from a channel's stream as it arrives, never splitting a multi-byte character between chunks. */
function decodeText(stream: ClientChannel | ClientChannel['stderr'], onText: (text: string) => void): void {
  const decoder = new StringDecoder('utf8');
  stream.on('data', (chunk: Buffer) => {
    const text = decoder.write(chunk);
    if (text) onText(text);
  });
  stream.on('end', () => {
    const rest = decoder.end();
    if (rest) onText(rest);
  });
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15 };

function signalNumber(name: string): number {
  return SIGNALS[name.replace(/^SIG/, '')] ?? 0;
}
