/** What the rest of the portal hands to `AuditService.record()`, and what the audit API returns. */

export const ACTOR_TYPES = ['user', 'token', 'schedule', 'webhook', 'system', 'agent', 'anonymous'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export interface AuditActor {
  type: ActorType;
  /** The user name (also for tokens), the job, the hook, or the part of the system acting. */
  name: string;
}

export interface AuditEventInput {
  actor: AuditActor;
  /** Dotted verb, e.g. `user.create`, `execution.started`; HTTP requests without a name get `<METHOD> <route>`. */
  action: string;
  /** What was acted on, as `<kind>:<id>`, e.g. `runbook:demo.hello`. */
  target?: string;
  details?: Record<string, unknown>;
  /** The client's address. */
  source?: string;
  /** When it happened; defaults to the moment `record()` is called. */
  at?: Date;
}

/** One stored event, as the API lists and exports it. */
export interface AuditEventView {
  seq: number;
  at: string;
  actor: AuditActor;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  source: string | null;
  prevHash: string;
  hash: string;
}

/** The outcome of re-computing the chain. `firstBadSeq` is the first event edited, out of place, or missing. */
export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstBadSeq?: number;
  reason?: 'hash mismatch' | 'prev_hash mismatch' | 'missing';
  /** The last event: keep its seq and hash outside Baton to detect a cut-off tail later. */
  head?: { seq: number; hash: string };
}

/** Masks secret values in serialized text (registered by the secrets module). */
export type AuditRedactor = (text: string) => string;
