/**
 * Runs one command as a child process in its own process group, streams its output in chunks, and kills the
 * whole group (not just the shell) on timeout or cancel.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';

export interface CommandSpec {
  command: string;
  shell: string;
  env: Record<string, string>;
  cwd: string;
  timeoutMs?: number;
  signal: AbortSignal;
  onOutput(stream: 'stdout' | 'stderr', text: string): void;
}

export interface CommandResult {
  exitCode: number | null;
  /** Why the command stopped other than by exiting on its own. */
  stoppedBy?: 'timeout' | 'cancel';
  error?: string;
}

/** After SIGTERM a process group gets this long to clean up before SIGKILL. */
const KILL_GRACE_MS = 2000;

export function runCommand(spec: CommandSpec): Promise<CommandResult> {
  return new Promise((resolve) => {
    let stoppedBy: CommandResult['stoppedBy'];
    const child = spawn(spec.shell, ['-c', spec.command], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true, // own process group, so that the group can be killed as one
      stdio: ['ignore', 'pipe', 'pipe'],
    });

    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is already gone
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (reason: 'timeout' | 'cancel') => {
      if (stoppedBy) return;
      stoppedBy = reason;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };

    const timeoutTimer = spec.timeoutMs ? setTimeout(() => stop('timeout'), spec.timeoutMs) : undefined;
    const onAbort = () => stop('cancel');
    if (spec.signal.aborted) onAbort();
    else spec.signal.addEventListener('abort', onAbort, { once: true });

    for (const stream of ['stdout', 'stderr'] as const) {
      const decoder = new StringDecoder('utf8'); // never split a multi-byte character between chunks
      child[stream].on('data', (chunk: Buffer) => {
        const text = decoder.write(chunk);
        if (text) spec.onOutput(stream, text);
      });
      child[stream].on('end', () => {
        const rest = decoder.end();
        if (rest) spec.onOutput(stream, rest);
      });
    }

    let spawnError: string | undefined;
    child.on('error', (err) => {
      spawnError = `could not start ${spec.shell}: ${err.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      spec.signal.removeEventListener('abort', onAbort);
      // Children of the shell may outlive it while holding no pipe; make sure none survive a stop.
      if (stoppedBy) killGroup('SIGKILL');
      const exitCode = code ?? (signal ? 128 + signalNumber(signal) : null);
      resolve({ exitCode: spawnError ? null : exitCode, stoppedBy, error: spawnError });
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}
