/** What every command gets: the environment read once at start, the output settings, and the API client. */
import { ApiClient } from './api';
import { EXIT, type ExitCode } from './exit-codes';
import { createPrinter, parseOutputFormat, type Printer } from './output';
import { resolveCredentials, type CliEnv } from './session';

export interface GlobalOptions {
  output: string;
  color: boolean;
}

export class Context {
  exitCode: ExitCode = EXIT.ok;
  private cachedPrinter?: Printer;
  private cachedClient?: Promise<ApiClient>;

  constructor(
    readonly env: CliEnv,
    private readonly globals: () => GlobalOptions,
  ) {}

  get printer(): Printer {
    if (!this.cachedPrinter) {
      const { output, color } = this.globals();
      this.cachedPrinter = createPrinter(parseOutputFormat(output), { isColorAllowed: color && this.env.NO_COLOR === undefined });
    }
    return this.cachedPrinter;
  }

  /** The client for the portal in BATON_URL/BATON_TOKEN or the stored session (a CliError when there is none). */
  client(): Promise<ApiClient> {
    this.cachedClient ??= resolveCredentials(this.env).then((credentials) => new ApiClient(credentials));
    return this.cachedClient;
  }

  /** The terminal's width when stdout is one; tables are not cut for pipes and files. */
  get terminalWidth(): number | undefined {
    return process.stdout.isTTY ? process.stdout.columns : undefined;
  }
}

/** `--help` text listing examples, appended after a command's options. */
export function examples(lines: [string, string][]): string {
  const width = Math.max(...lines.map(([command]) => command.length));
  return `\nExamples:\n${lines.map(([command, what]) => `  $ ${command.padEnd(width)}  # ${what}`).join('\n')}\n`;
}

/** Collects a repeatable option's values: `-p a=1 -p b=2`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
