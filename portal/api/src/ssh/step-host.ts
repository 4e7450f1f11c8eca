/**
 * Runs a node run's steps on a remote machine over one SSH connection: the `StepHost` of agentless nodes, so the
 * shared executor keeps the semantics (DAG, retries, timeouts, outputs, masking, events) in one place.
 *
 * sshd ignores `env` requests, so each command exports its variables itself, every value single-quoted
 * (`exportStatement`). Each step runs as `exec /bin/sh -c <script>` in the process group sshd gives the session
 * (sshd makes every session's shell a process group leader); the script first writes its pid, so a timeout or a
 * cancel kills the whole group through a second channel, not just the channel. The run's scratch directory is a
 * `mktemp -d` on the remote side, removed at the end.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import { exportStatement, shellQuote, type CommandResult, type CommandSpec, type StepHost } from '@baton/shared/node';

/** After SIGTERM the remote group gets this long before SIGKILL (as on agents). */
const KILL_GRACE_MS = 2000;
/** How long a kill waits for a step that was stopped right as it started to write its pid. */
const PID_WAIT_TRIES = 20;

export interface ExecResult {
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export class SshStepHost implements StepHost {
  private workdir?: string;
  private pidFiles = 0;
  /** Output files to empty before the next command starts (the wrapper does it, saving a round trip). */
  private readonly filesToEmpty = new Set<string>();

  constructor(private readonly client: Client) {}

  /** Creates the remote scratch directory; called when the node run is dispatched, so a broken shell is seen early. */
  async open(): Promise<string> {
    const made = await this.exec('umask 077 && mktemp -d "${TMPDIR:-/tmp}/baton-XXXXXXXXXX"');
    const dir = made.stdout.trim();
    if (made.exitCode !== 0 || !dir.startsWith('/')) {
      throw new Error(
        `could not create a temporary directory on the node: ${(made.stderr || made.stdout).trim() || `exit ${made.exitCode}`}`,
      );
    }
    this.workdir = dir;
    return dir;
  }

  async makeWorkdir(): Promise<string> {
    return this.workdir ?? this.open();
  }

  async createEmptyFile(path: string): Promise<void> {
    this.filesToEmpty.add(path);
  }

  async readTextFile(path: string): Promise<string> {
    const read = await this.exec(`cat ${shellQuote(path)} 2>/dev/null`).catch(() => undefined);
    return read?.stdout ?? '';
  }

  async removeWorkdir(path: string): Promise<void> {
    await this.exec(`rm -rf ${shellQuote(path)}`).catch(() => undefined);
  }

  runCommand(spec: CommandSpec): Promise<CommandResult> {
    const pidFile = `${this.workdir ?? '/tmp'}/.pid.${++this.pidFiles}`;
    const empty = [...this.filesToEmpty].map((f) => `: > ${shellQuote(f)} || exit 125`);
    this.filesToEmpty.clear();
    const exports = exportStatement(spec.env);
    const script = [
      `echo $$ > ${shellQuote(pidFile)} || exit 125`,
      ...empty,
      `cd ${shellQuote(spec.cwd)} || exit 125`,
      ...(exports ? [exports] : []),
      `exec ${shellQuote(spec.shell)} -c ${shellQuote(spec.command)}`,
    ].join('\n');
    return new Promise((resolve) => {
      let stoppedBy: CommandResult['stoppedBy'];
      let killTimer: NodeJS.Timeout | undefined;
      let exit: { code: number | null; signal?: string } | undefined;
      const stop = (reason: 'timeout' | 'cancel') => {
        if (stoppedBy) return;
        stoppedBy = reason;
        void this.killGroup(pidFile, 'TERM');
        killTimer = setTimeout(() => void this.killGroup(pidFile, 'KILL'), KILL_GRACE_MS);
      };
      const timeoutTimer = spec.timeoutMs ? setTimeout(() => stop('timeout'), spec.timeoutMs) : undefined;
      const onAbort = () => stop('cancel');
      const finish = (error?: string) => {
        clearTimeout(timeoutTimer);
        clearTimeout(killTimer);
        spec.signal.removeEventListener('abort', onAbort);
        // As on agents: children that outlived the shell while holding no output stream must not survive a stop.
        if (stoppedBy) void this.killGroup(pidFile, 'KILL');
        const exitCode = exit ? (exit.code ?? (exit.signal ? 128 + signalNumber(exit.signal) : null)) : null;
        resolve({
          exitCode,
          stoppedBy,
          error: error ?? (exit || stoppedBy ? undefined : 'the SSH connection closed before the step ended'),
        });
      };

      this.client.exec(`exec /bin/sh -c ${shellQuote(script)}`, (err, channel) => {
        if (err) return finish(`could not start the step over SSH: ${err.message}`);
        if (spec.signal.aborted) onAbort();
        else spec.signal.addEventListener('abort', onAbort, { once: true });
        streamText(channel, 'stdout', spec.onOutput);
        streamText(channel.stderr, 'stderr', spec.onOutput);
        channel.on('exit', (code: number | null, signal?: string) => (exit = { code, signal }));
        channel.on('close', () => finish());
      });
    });
  }

  /** Signals the step's process group; waits briefly for the pid file of a step stopped as it started. */
  private async killGroup(pidFile: string, signal: 'TERM' | 'KILL'): Promise<void> {
    const file = shellQuote(pidFile);
    const script =
      `i=0; while [ ! -s ${file} ] && [ $i -lt ${PID_WAIT_TRIES} ]; do sleep 0.1; i=$((i+1)); done; ` +
      `pid=$(cat ${file} 2>/dev/null) && [ -n "$pid" ] && kill -s ${signal} -- -"$pid" 2>/dev/null; true`;
    await this.exec(script).catch(() => undefined);
  }

  /** Runs a short command and collects its output (the helpers around steps: mktemp, cat, kill, rm). */
  exec(command: string): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, channel) => {
        if (err) return reject(err);
        let stdout = '';
        let stderr = '';
        let exit: { code: number | null; signal?: string } = { code: null };
        channel.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
        channel.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
        channel.on('exit', (code: number | null, signal?: string) => (exit = { code, signal }));
        channel.on('close', () => resolve({ exitCode: exit.code, signal: exit.signal, stdout, stderr }));
      });
    });
  }
}

function streamText(
  stream: ClientChannel | ClientChannel['stderr'],
  name: 'stdout' | 'stderr',
  onOutput: (stream: 'stdout' | 'stderr', text: string) => void,
): void {
  const decoder = new StringDecoder('utf8'); // never split a multi-byte character between chunks
  stream.on('data', (chunk: Buffer) => {
    const text = decoder.write(chunk);
    if (text) onOutput(name, text);
  });
  stream.on('end', () => {
    const rest = decoder.end();
    if (rest) onOutput(name, rest);
  });
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15 };

function signalNumber(name: string): number {
  return SIGNALS[name.replace(/^SIG/, '')] ?? 0;
}
