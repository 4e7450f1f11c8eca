/**
 * Where a node run's steps execute. The executor (node-run.ts) owns the semantics (DAG, retries, timeouts,
 * outputs, masking, events); a host only runs one command and handles the run's scratch directory, on this
 * machine (`localHost`: child processes and local files) or elsewhere (the portal's SSH host runs them over ssh2).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, type CommandResult, type CommandSpec } from './process';

export interface StepHost {
  /** Creates the run's private scratch directory (default working directory, output files) and returns its path. */
  makeWorkdir(): Promise<string>;
  /** Creates (or empties) the file a step writes its outputs to, before the step starts. */
  createEmptyFile(path: string): Promise<void>;
  /**
   * Runs one command; `spec.env` is what the executor adds for the step (parameters, outputs, BATON_*), on top of
   * the host's base environment. Stops the command's whole process group on timeout or abort.
   */
  runCommand(spec: CommandSpec): Promise<CommandResult>;
  /** A file's text, or '' when it does not exist. */
  readTextFile(path: string): Promise<string>;
  /** Removes the scratch directory; never throws. */
  removeWorkdir(path: string): Promise<void>;
}

/** Steps as child processes of this process, with only `baseEnv` of its own environment visible to them. */
export function localHost(baseEnv: Record<string, string>): StepHost {
  return {
    makeWorkdir: () => mkdtemp(join(tmpdir(), 'baton-')),
    createEmptyFile: (path) => writeFile(path, ''),
    runCommand: (spec) => runCommand({ ...spec, env: { ...baseEnv, ...spec.env } }),
    readTextFile: (path) => readFile(path, 'utf8').catch(() => ''),
    removeWorkdir: (path) => rm(path, { recursive: true, force: true }),
  };
}
