/**
 * Sends the stored deliveries, the way the hook delivery worker processes hook deliveries: claims due rows with
 * `FOR UPDATE SKIP LOCKED` (several replicas share the outbox, none takes a row another holds), woken by each new
 * event in this process and polling for the rest. Unlike hook deliveries, a send waits on someone else's server (up
 * to the notifier's timeout), so no transaction stays open across it: the claim moves `next_attempt_at` past the
 * longest attempt (a lease) and counts the attempt; the outcome is written only if the row is still this claim's.
 * A replica that dies mid-attempt leaves the row due again when the lease ends. A failed attempt waits a doubling
 * backoff; after the notifier's last attempt the delivery ends `dead` with the last error. Receivers see the same
 * event id on every attempt, so a message sent again after a crash can be recognised.
 */
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac } from 'node:crypto';
import { DataSource } from 'typeorm';
import { parseDuration, type Notifier } from '@baton/shared';
import { rowsOf } from '../core/database/rows';
import { SecretsService } from '../secrets/secrets.service';
import { emailOf, slackBody, teamsBody, webhookBody } from './messages';
import { maskStrings, type NotificationEvent } from './notification-event';
import { isOutOfAttempts, retryDelayMs } from './retry-schedule';
import { postJson, sendMail, type AttemptResult } from './senders';

const POLL_MS = 1000;
/** Deliveries being sent at once by this replica: a receiver that hangs holds one slot, not the outbox. */
const MAX_IN_FLIGHT = 32;
/** Longer than any attempt (timeouts are at most 60 s): a row claimed this long ago belongs to a replica that died. */
const LEASE_SECONDS = 90;

interface ClaimedDelivery {
  id: string;
  event_id: string;
  notifier_id: string;
  attempts: number;
  payload: NotificationEvent;
  notifier: Notifier | null;
}

@Injectable()
export class OutboxWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxWorker.name);
  private timer?: NodeJS.Timeout;
  private claiming?: Promise<void>;
  private isWanted = false;
  private isStopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborts the attempts in flight when the portal stops; their rows are handed back, not counted. */
  private readonly stopping = new AbortController();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly secrets: SecretsService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.wake(), POLL_MS);
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.isStopping = true;
    clearInterval(this.timer);
    this.stopping.abort();
    await this.claiming;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Asks for a pass over the outbox; passes never overlap in one process. */
  wake(): void {
    if (this.isStopping) return;
    this.isWanted = true;
    if (this.claiming) return;
    this.claiming = this.claimDue()
      .catch((err) => this.logger.error({ err }, 'claiming notification deliveries failed; retrying at the next poll'))
      .finally(() => (this.claiming = undefined));
  }

  private async claimDue(): Promise<void> {
    while (this.isWanted && !this.isStopping) {
      this.isWanted = false;
      for (;;) {
        const room = MAX_IN_FLIGHT - this.inFlight.size;
        if (room <= 0 || this.isStopping) break;
        const claimed = await this.claim(room);
        for (const delivery of claimed) this.track(this.attempt(delivery));
        if (claimed.length < room) break;
      }
    }
  }

  private track(attempt: Promise<void>): void {
    const tracked = attempt
      .catch((err) => this.logger.error({ err }, 'recording a notification attempt failed; the delivery is retried when its lease ends'))
      .finally(() => {
        this.inFlight.delete(tracked);
        this.wake(); // a slot is free
      });
    this.inFlight.add(tracked);
  }

  /** Takes due deliveries for one attempt each: counted, and leased until the attempt must be over. */
  private async claim(limit: number): Promise<ClaimedDelivery[]> {
    const result = await this.db.query(
      `WITH due AS (
         SELECT id FROM notification_deliveries
          WHERE status = 'pending' AND next_attempt_at <= now()
          ORDER BY next_attempt_at, id LIMIT $1
          FOR UPDATE SKIP LOCKED)
       UPDATE notification_deliveries d
          SET attempts = d.attempts + 1, last_attempt_at = now(), next_attempt_at = now() + make_interval(secs => $2)
         FROM due WHERE d.id = due.id
       RETURNING d.id, d.event_id, d.notifier_id, d.attempts,
                 (SELECT payload FROM notification_events e WHERE e.id = d.event_id) AS payload,
                 (SELECT content FROM notifiers n WHERE n.id = d.notifier_id) AS notifier`,
      [limit, LEASE_SECONDS],
    );
    return rowsOf<ClaimedDelivery>(result);
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const notifier = delivery.notifier;
    if (!notifier || !notifier.enabled) {
      const why = notifier ? 'the notifier is disabled' : `notifier "${delivery.notifier_id}" no longer exists`;
      await this.finish(delivery, { isDelivered: false, error: why }, true);
      return;
    }
    const result = await this.send(notifier, delivery);
    if (!result.isDelivered && this.stopping.signal.aborted) {
      await this.handBack(delivery);
      return;
    }
    const isDead = !result.isDelivered && isOutOfAttempts(delivery.attempts, notifier.retry.attempts);
    await this.finish(delivery, result, isDead, notifier);
  }

  private async send(notifier: Notifier, delivery: ClaimedDelivery): Promise<AttemptResult> {
    const event = delivery.payload;
    const timeoutMs = parseDuration(notifier.timeout);
    const secrets = await this.secrets.resolve(
      [notifier.urlSecret, notifier.hmacSecret, notifier.smtp?.passwordSecret].filter((s): s is string => s !== undefined),
    );
    const secret = (name: string | undefined): string | undefined => (name === undefined ? undefined : secrets.get(name));
    const missing = [notifier.urlSecret, notifier.hmacSecret, notifier.smtp?.passwordSecret].find(
      (s) => s !== undefined && !secrets.has(s),
    );
    if (missing)
      return { isDelivered: false, error: `secret "${missing}" does not exist; an admin can set it with PUT /api/v1/secrets/${missing}` };
    // Secrets set since the event was stored are masked too.
    const mask = (text: string) => this.secrets.mask(text);

    if (notifier.type === 'email') {
      const mail = maskStrings(emailOf(event), mask);
      return sendMail(
        { ...notifier.smtp!, password: secret(notifier.smtp!.passwordSecret) },
        {
          from: notifier.from!,
          to: notifier.to!,
          subject: mail.subject,
          text: mail.text,
          messageId: `<${encodeURIComponent(event.id)}.${notifier.id}@baton>`,
          headers: { 'X-Baton-Event': event.type, 'X-Baton-Event-Id': event.id },
        },
        { timeoutMs },
      );
    }
    const url = notifier.url ?? secret(notifier.urlSecret)!;
    const render = notifier.type === 'slack' ? slackBody : notifier.type === 'teams' ? teamsBody : webhookBody;
    const body = JSON.stringify(maskStrings(render(event), mask));
    const headers: Record<string, string> = {
      'x-baton-event': event.type,
      'x-baton-event-id': event.id,
      'idempotency-key': event.id,
      'x-baton-delivery': delivery.id,
      'x-baton-attempt': String(delivery.attempts),
    };
    const hmacKey = secret(notifier.hmacSecret);
    if (hmacKey !== undefined) headers['x-baton-signature'] = `sha256=${createHmac('sha256', hmacKey).update(body).digest('hex')}`;
    const result = await postJson(url, body, headers, { timeoutMs, signal: this.stopping.signal });
    // A receiver's error page might repeat what it was sent, or the URL secret: mask what is kept.
    return result.error ? { ...result, error: mask(result.error) } : result;
  }

  /** Writes the attempt's outcome, only if the row is still this claim's (not re-claimed after a lost lease). */
  private async finish(delivery: ClaimedDelivery, result: AttemptResult, isDead: boolean, notifier?: Notifier): Promise<void> {
    const log = { delivery: delivery.id, event: delivery.event_id, notifier: delivery.notifier_id, attempt: delivery.attempts };
    if (result.isDelivered) {
      await this.db.query(
        `UPDATE notification_deliveries SET status = 'delivered', delivered_at = now(), last_status = $3, last_error = NULL
          WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
        [delivery.id, delivery.attempts, result.status ?? null],
      );
      this.logger.log(log, 'notification delivered');
      return;
    }
    if (isDead) {
      await this.db.query(
        `UPDATE notification_deliveries SET status = 'dead', last_status = $3, last_error = $4
          WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
        [delivery.id, delivery.attempts, result.status ?? null, result.error ?? null],
      );
      this.logger.warn({ ...log, err: result.error }, 'notification delivery gave up (dead)');
      return;
    }
    const delayMs = retryDelayMs(delivery.attempts, parseDuration(notifier!.retry.backoff));
    await this.db.query(
      `UPDATE notification_deliveries SET next_attempt_at = now() + make_interval(secs => $3), last_status = $4, last_error = $5
        WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
      [delivery.id, delivery.attempts, delayMs / 1000, result.status ?? null, result.error ?? null],
    );
    this.logger.warn({ ...log, err: result.error, retryInMs: delayMs }, 'notification attempt failed; retrying');
  }

  /** An attempt cut short by this portal stopping: the row is due again at once and the attempt does not count. */
  private async handBack(delivery: ClaimedDelivery): Promise<void> {
    await this.db.query(
      `UPDATE notification_deliveries SET attempts = attempts - 1, next_attempt_at = now()
        WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
      [delivery.id, delivery.attempts],
    );
  }
}
