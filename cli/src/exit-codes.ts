/**
 * What `baton` exits with, so scripts and CI can tell outcomes apart (documented in docs/cli.md).
 * An execution's outcome maps to one code each; everything that stops the CLI before that has its own.
 */
export const EXIT = {
  /** Done; for `run --follow|--wait`: the execution succeeded. */
  ok: 0,
  /** The execution failed; `lint`: problems were found; `audit verify`: the chain is broken. */
  failed: 1,
  /** Bad input: wrong usage, an unknown runbook, a parameter the API refused (400, 404). */
  usage: 2,
  timedOut: 3,
  cancelled: 4,
  /** The execution waits for a person (approval or input), or an approver rejected it. */
  waiting: 5,
  /** Not accepted now: the portal's queue is full (429) or a conflicting run is going (409); try again later. */
  busy: 6,
  /** Not logged in, the session or token was refused (401), or not allowed (403). */
  auth: 7,
  /** The portal cannot be reached or failed (5xx). */
  unavailable: 8,
  /** Ctrl-C: the CLI stopped following; the execution goes on. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code for an execution's status; statuses still in progress are `undefined`. */
export function exitCodeForStatus(status: string): ExitCode | undefined {
  switch (status) {
    case 'succeeded':
      return EXIT.ok;
    case 'failed':
      return EXIT.failed;
    case 'timed_out':
      return EXIT.timedOut;
    case 'cancelled':
      return EXIT.cancelled;
    case 'rejected':
    case 'waiting':
      return EXIT.waiting;
    case 'queued':
    case 'running':
      return undefined;
    default:
      // A final state this CLI does not know yet: not a success.
      return EXIT.failed;
  }
}

/** An error that ends the CLI with a message a person can act on and a code a script can test. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** The API's status code, when the error is the API's answer. */
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}
