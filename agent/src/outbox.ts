/**
 * Delivers node events to the JetStream stream, in order, exactly once as far as the portal can tell
 * (each carries a message id). When NATS cannot be reached the events wait in a spool file beside the agent
 * and go out when it can, also after an agent restart.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { NodeEvent } from '@baton/shared';
import type { AgentLogger } from './log';

interface PendingEvent {
  subject: string;
  event: NodeEvent;
}

const RETRY_MS = 1000;
const BATCH = 256;

export class EventOutbox {
  private pending: PendingEvent[] = [];
  private pumping = false;
  private retryTimer?: NodeJS.Timeout;
  private isSpooled = false;
  private drainedWaiters: (() => void)[] = [];

  constructor(
    private readonly js: JetStreamClient,
    private readonly spoolFile: string | undefined,
    private readonly log: AgentLogger,
    /** Signs each event as it is sent (also events spooled before a restart). */
    private readonly sign: (subject: string, body: Uint8Array) => MsgHdrs,
  ) {
    this.loadSpool();
  }

  push(subject: string, event: NodeEvent): void {
    this.pending.push({ subject, event });
    void this.pump();
  }

  get size(): number {
    return this.pending.length;
  }

  /** Resolves when every event so far has been stored by JetStream. */
  drained(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainedWaiters.push(resolve));
  }

  stop(): void {
    clearTimeout(this.retryTimer);
    if (this.pending.length > 0) this.writeSpool();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.pending.length > 0) {
        // Publishing a batch without waiting for each ack keeps order (one connection) and saves round trips.
        const batch = this.pending.slice(0, BATCH);
        const results = await Promise.allSettled(
          batch.map(({ subject, event }) => {
            const body = new TextEncoder().encode(JSON.stringify(event));
            return this.js.publish(subject, body, { msgID: `${event.nodeRunId}:${event.seq}`, headers: this.sign(subject, body) });
          }),
        );
        const firstFailure = results.findIndex((r) => r.status === 'rejected');
        const delivered = firstFailure === -1 ? batch.length : firstFailure;
        this.pending.splice(0, delivered);
        if (firstFailure !== -1) {
          const reason = (results[firstFailure] as PromiseRejectedResult).reason;
          this.log.warn({ pending: this.pending.length, err: String(reason) }, 'events not delivered; spooled, will retry');
          this.writeSpool();
          this.retryTimer = setTimeout(() => void this.pump(), RETRY_MS);
          return;
        }
      }
      if (this.isSpooled) this.clearSpool();
      for (const resolve of this.drainedWaiters.splice(0)) resolve();
    } finally {
      this.pumping = false;
    }
  }

  private writeSpool(): void {
    if (!this.spoolFile) return;
    const tmp = `${this.spoolFile}.tmp`;
    writeFileSync(tmp, this.pending.map((p) => JSON.stringify(p)).join('\n') + '\n');
    renameSync(tmp, this.spoolFile); // atomic: a crash leaves the old spool or the new one, never half
    this.isSpooled = true;
  }

  private clearSpool(): void {
    if (this.spoolFile) rmSync(this.spoolFile, { force: true });
    this.isSpooled = false;
  }

  private loadSpool(): void {
    if (!this.spoolFile || !existsSync(this.spoolFile)) return;
    const lines = readFileSync(this.spoolFile, 'utf8').split('\n').filter(Boolean);
    this.pending = lines.map((line) => JSON.parse(line) as PendingEvent);
    this.isSpooled = true;
    this.log.info({ events: this.pending.length }, 'sending events spooled before restart');
    void this.pump();
  }
}
