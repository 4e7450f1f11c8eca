/**
 * Processes stored deliveries after they were answered: claims the oldest pending ones with `FOR UPDATE SKIP LOCKED`
 * (so several replicas share the queue and none processes a delivery twice), turns each into alerts, lets every
 * matching rule act, and stores what happened. Woken by each new delivery in this process, and polls for the rest
 * (deliveries received by another replica, or left pending by a replica that stopped).
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { matchesLabels, type Alert } from '@baton/shared';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { alertmanagerAlerts, genericAlerts } from './alert-payload';
import { AlertRulesService } from './alert-rules.service';
import type { AlertOutcome, HookType } from './hook.entity';
import { DEFAULT_ALERTS_PATH } from './hooks.service';
import { RemediationService } from './remediation.service';

const BATCH_SIZE = 20;
const POLL_MS = 1000;

interface ClaimedDelivery {
  id: string;
  hook: string;
  payload: unknown;
  type: HookType;
  alerts_path: string | null;
}

@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryWorker.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private isWanted = false;
  private isStopping = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly rules: AlertRulesService,
    private readonly remediation: RemediationService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.isHookWorkerEnabled) {
      this.logger.log('hook delivery processing is off on this replica (BATON_HOOK_WORKER=false); deliveries are only stored');
      return;
    }
    this.timer = setInterval(() => this.wake(), POLL_MS);
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.isStopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Asks for a pass over the queue; passes never overlap in one process. */
  wake(): void {
    if (!this.config.isHookWorkerEnabled || this.isStopping) return;
    this.isWanted = true;
    if (this.running) return;
    this.running = this.drain()
      .catch((err) => this.logger.error({ err }, 'processing hook deliveries failed; retrying at the next poll'))
      .finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    while (this.isWanted && !this.isStopping) {
      this.isWanted = false;
      while (!this.isStopping && (await this.processBatch()) > 0) this.isWanted = false;
    }
  }

  /**
   * One transaction: the claimed rows stay locked until their outcome is written, so a replica that dies mid-way
   * leaves them pending for the next. Returns how many deliveries were processed.
   */
  private async processBatch(): Promise<number> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const claimed: ClaimedDelivery[] = await runner.query(
        `SELECT d.id, d.hook, d.payload, h.type, h.alerts_path
           FROM hook_deliveries d JOIN hooks h ON h.name = d.hook
          WHERE d.status = 'pending'
          ORDER BY d.id LIMIT $1
          FOR UPDATE OF d SKIP LOCKED`,
        [BATCH_SIZE],
      );
      for (const delivery of claimed) await this.processOne(runner, delivery);
      await runner.commitTransaction();
      return claimed.length;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }

  private async processOne(runner: QueryRunner, delivery: ClaimedDelivery): Promise<void> {
    let status: 'processed' | 'failed' = 'processed';
    let outcomes: AlertOutcome[] = [];
    let error: string | null = null;
    try {
      outcomes = await this.outcomesOf(delivery);
    } catch (err) {
      status = 'failed';
      error = err instanceof Error ? err.message : String(err);
      this.logger.warn({ delivery: delivery.id, hook: delivery.hook, err: error }, 'hook delivery could not be processed');
    }
    await runner.query(
      `UPDATE hook_deliveries SET status = $2, outcomes = $3::jsonb, error = $4, processed_at = now(), attempts = attempts + 1 WHERE id = $1`,
      [delivery.id, status, JSON.stringify(outcomes), error],
    );
  }

  /** Every alert against every rule for this hook, in the order sent (a firing before its resolution). */
  private async outcomesOf(delivery: ClaimedDelivery): Promise<AlertOutcome[]> {
    const alerts: Alert[] =
      delivery.type === 'alertmanager'
        ? alertmanagerAlerts(delivery.payload)
        : genericAlerts(delivery.payload, delivery.alerts_path ?? DEFAULT_ALERTS_PATH);
    const rules = await this.rules.activeFor(delivery.hook);
    const outcomes: AlertOutcome[] = [];
    for (const alert of alerts) {
      const matching = rules.filter((rule) => matchesLabels(rule.match, alert.labels));
      if (matching.length === 0) {
        outcomes.push(
          this.remediation.countOutcome({
            fingerprint: alert.fingerprint,
            ...(alert.labels.alertname ? { alertname: alert.labels.alertname } : {}),
            status: alert.status,
            result: 'no-rule',
          }),
        );
      }
      for (const rule of matching) outcomes.push(await this.remediation.handle(rule, alert, delivery.hook));
    }
    return outcomes;
  }
}
