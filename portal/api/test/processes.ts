/** Stopping the processes tests start (agents, portals, sshd, Alertmanager) without leaving timers behind. */
import type { ChildProcess } from 'node:child_process';

/**
 * Sends `signal` (SIGTERM by default), waits up to `graceMs` for the process to exit, then SIGKILLs it and waits for
 * that. A process that already exited, by a code or a signal, is left alone.
 */
export async function stopChild(child: ChildProcess | undefined, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const hasExited = () => !child || child.exitCode !== null || child.signalCode !== null;
  if (!child || hasExited()) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  if (!hasExited()) {
    child.kill('SIGKILL');
    await exited;
  }
}
