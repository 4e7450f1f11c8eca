/**
 * Publishing notifications: an event is stored once (its id decides: announcing it again changes nothing) with one
 * pending delivery per notifier that wants it, in one transaction, optionally the caller's, so the event commits
 * with what caused it (a breaker tripping, a pool action failing). The outbox worker sends the deliveries.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { namespaceOf } from '../auth/permissions';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { rowsOf } from '../core/database/rows';
import { SecretsService } from '../secrets/secrets.service';
import {
  maskStrings,
  type AlertRuleFacts,
  type NotificationEvent,
  type NotificationScope,
  type NotificationType,
  type PoolActionFacts,
  type TriggerType,
} from './notification-event';
import { NotifiersService } from './notifiers.service';
import { OutboxWorker } from './outbox-worker.service';
import { recipientsOf } from './recipients';

export interface PublishOptions {
  /** The execution the event is about: the event goes when retention deletes the execution. */
  executionId?: string;
  /** Notifiers named by the runbook's or job's `notify:` for this event. */
  named?: string[];
  /** Only this notifier, whatever its `on` says (a test message). */
  only?: string;
}

@Injectable()
export class NotificationsService {
  private readonly logger = new Logger(NotificationsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly notifiers: NotifiersService,
    private readonly secrets: SecretsService,
    private readonly worker: OutboxWorker,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  /** A link to a page of the UI, or undefined when BATON_PUBLIC_URL is not set. */
  linkTo(path: string): string | undefined {
    if (!this.config.publicUrl) return undefined;
    return `${this.config.publicUrl.replace(/\/+$/, '')}${path}`;
  }

  /** The notifiers that would get an event of this type and scope (read through `manager` when given). */
  async recipientsFor(type: NotificationType, scope: NotificationScope, named: string[] = [], manager?: EntityManager): Promise<string[]> {
    const { recipients, unknown } = recipientsOf(await this.notifiers.all(manager), type, scope, named);
    if (unknown.length > 0)
      this.logger.warn({ notifiers: unknown, type, scope }, 'notify names notifiers that do not exist or are disabled');
    return recipients;
  }

  /**
   * Stores the event and its deliveries unless an event with its id is stored already; returns whether it was new and
   * who gets it. Inside `manager`'s transaction when given (then the worker finds the deliveries once that commits).
   */
  async publish(
    event: NotificationEvent,
    options: PublishOptions = {},
    manager?: EntityManager,
  ): Promise<{ isNew: boolean; recipients: string[] }> {
    const store = async (tx: EntityManager) => {
      const recipients = options.only ? [options.only] : await this.recipientsFor(event.type, event.scope, options.named, tx);
      const inserted = await tx.query(
        `INSERT INTO notification_events (id, type, execution_id, occurred_at, payload) VALUES ($1, $2, $3, $4, $5::jsonb)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [event.id, event.type, options.executionId ?? null, event.occurredAt, JSON.stringify(this.masked(event))],
      );
      if (rowsOf(inserted).length === 0) return { isNew: false, recipients: [] };
      if (recipients.length > 0) {
        await tx.query(`INSERT INTO notification_deliveries (event_id, notifier_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, [
          event.id,
          recipients,
        ]);
      }
      return { isNew: true, recipients };
    };
    const result = manager ? await store(manager) : await this.db.transaction(store);
    if (result.recipients.length > 0) {
      this.logger.log({ event: event.id, type: event.type, notifiers: result.recipients }, 'notification queued');
      this.worker.wake();
    }
    return result;
  }

  /** An alert rule's circuit breaker opened: published in the transaction that opened it, so it is told once. */
  async publishAlertRuleTripped(rule: AlertRuleFacts & { runbook?: string }, manager: EntityManager): Promise<void> {
    const { runbook, ...facts } = rule;
    const link = this.linkTo('/alerts');
    await this.publish(
      {
        id: `alert.rule.tripped/${randomUUID()}`,
        type: 'alert.rule.tripped',
        occurredAt: new Date().toISOString(),
        scope: { namespace: namespaceOf(rule.id), ...(runbook ? { runbook } : {}), trigger: 'webhook' },
        title: `Alert rule ${rule.id} tripped its circuit breaker: remediations stop`,
        alertRule: facts,
        ...(link ? { link } : {}),
      },
      {},
      manager,
    );
  }

  /** A pool action ended failed: published in the transaction that ended it (once per action). */
  async publishPoolActionFailed(action: PoolActionFacts & { job?: string; trigger: TriggerType }, manager: EntityManager): Promise<void> {
    const { job, trigger, ...facts } = action;
    const link = this.linkTo('/pools');
    await this.publish(
      {
        id: `pool.action.failed/${action.id}`,
        type: 'pool.action.failed',
        occurredAt: new Date().toISOString(),
        scope: { namespace: namespaceOf(action.pool), ...(job ? { job } : {}), trigger },
        title: `Pool ${action.pool}: scaling from ${action.from} to ${action.to} nodes failed`,
        poolAction: facts,
        ...(link ? { link } : {}),
      },
      {},
      manager,
    );
  }

  /** A test message through one notifier, queued in the outbox like any event, so its delivery shows what happens. */
  async sendTest(notifierId: string, user: string): Promise<{ eventId: string }> {
    await this.notifiers.get(notifierId); // 404 for an unknown notifier
    const link = this.linkTo('/notifiers');
    const event: NotificationEvent = {
      id: `notifier.test/${randomUUID()}`,
      type: 'notifier.test',
      occurredAt: new Date().toISOString(),
      scope: {},
      title: `Test message from Baton, sent by ${user}`,
      ...(link ? { link } : {}),
    };
    await this.publish(event, { only: notifierId });
    return { eventId: event.id };
  }

  /** Every string of the event with known secret values masked (walked, so a short secret can never break the JSON). */
  private masked(event: NotificationEvent): NotificationEvent {
    return maskStrings(event, (text) => this.secrets.mask(text));
  }
}
