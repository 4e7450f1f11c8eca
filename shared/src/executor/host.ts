/**
 * Where a node run's steps execute. The executor (node-run.ts) owns the semantics (DAG, retries, timeouts,
 * outputs, masking, events); a host only runs one step's command and handles the run's scratch directory, on this
 * machine (`localHost`: child processes and local files) or elsewhere (the portal's SSH host runs them over ssh2).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, type CommandResult, type CommandSpec } from './process';

export interface StepCommand extends CommandSpec {
  /** The file the step writes its `key=value` outputs to (`$BATON_OUTPUT`), inside the scratch directory. */
  outputFile: string;
}

export interface StepResult extends CommandResult {
  /** What the step wrote to its output file ('' when nothing, or when the step was stopped). */
  outputText: string;
}

export interface StepHost {
  /** The run's private scratch directory (default working directory, output files): created here or by the first step. */
  makeWorkdir(): Promise<string>;
  /**
   * Runs one step's command with an empty output file and returns what the step wrote to it. `spec.env` is what the
   * executor adds for the step (parameters, outputs, BATON_*), on top of the host's base environment. Stops the
   * command's whole process group on timeout or abort.
   */
  runStep(spec: StepCommand): Promise<StepResult>;
  /** Removes the scratch directory; never throws. */
  removeWorkdir(path: string): Promise<void>;
}

/** Steps as child processes of this process, with only `baseEnv` of its own environment visible to them. */
export function localHost(baseEnv: Record<string, string>): StepHost {
  return {
    makeWorkdir: () => mkdtemp(join(tmpdir(), 'baton-')),
    runStep: async (spec) => {
      await writeFile(spec.outputFile, '');
      const result = await runCommand({ ...spec, env: { ...baseEnv, ...spec.env } });
      return { ...result, outputText: await readFile(spec.outputFile, 'utf8').catch(() => '') };
    },
    removeWorkdir: (path) => rm(path, { recursive: true, force: true }),
  };
}
