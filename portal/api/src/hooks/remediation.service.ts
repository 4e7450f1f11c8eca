/**
 * What one alert does under one rule: decides under a per-rule lock (so replicas and concurrent deliveries agree)
 * whether this is a new firing episode, a repeat, a resolution, or a remediation the circuit breaker must suppress;
 * records the decision; then starts the runbook with parameters rendered from the alert. Breaker trips are audited,
 * exported as metrics and told to notifiers (`alert.rule.tripped`, in the transaction that opens the breaker).
 */
import { HttpException, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, Gauge } from 'prom-client';
import { DataSource, EntityManager } from 'typeorm';
import {
  nodeFromLabel,
  parseDuration,
  renderParams,
  type Alert,
  type AlertRule,
  type ParamValue,
  type PoolChange,
  type Targets,
} from '@baton/shared';
import { AuditService } from '../audit/audit.service';
import { MetricsService } from '../core/metrics.service';
import { NotificationsService } from '../notifications/notifications.service';
import { DispatchService } from '../dispatch/dispatch.service';
import { ScalingService } from '../pools/scaling.service';
import { breakerWindowStart, decideFiring, decideResolved, isBreakerClosed, type EpisodeState } from './episodes';
import type { AlertOutcome } from './hook.entity';

type Decision =
  | { kind: 'start'; runbook: string; params: Record<string, ParamValue> | undefined; column: 'execution_id' | 'resolved_execution_id' }
  | { kind: 'scale'; change: PoolChange }
  | { kind: 'suppressed'; isNewlyTripped: boolean; startedInWindow: number }
  | { kind: 'done'; result: AlertOutcome['result']; message?: string };

@Injectable()
export class RemediationService {
  private readonly logger = new Logger(RemediationService.name);
  private readonly tripped: Gauge;
  private readonly suppressed: Counter;
  private readonly outcomes: Counter;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly dispatch: DispatchService,
    private readonly scaling: ScalingService,
    private readonly audit: AuditService,
    private readonly notifications: NotificationsService,
    metrics: MetricsService,
  ) {
    this.tripped = new Gauge({
      name: 'baton_alert_rule_tripped',
      help: "1 while an alert rule's circuit breaker suppresses remediations (maxPerHour reached), else 0",
      labelNames: ['rule'],
      registers: [metrics.registry],
    });
    this.suppressed = new Counter({
      name: 'baton_alert_remediations_suppressed_total',
      help: 'Remediations an alert rule did not start because its circuit breaker was open',
      labelNames: ['rule'],
      registers: [metrics.registry],
    });
    this.outcomes = new Counter({
      name: 'baton_alert_outcomes_total',
      help: 'What alerts delivered by hooks caused, by result (started, duplicate, suppressed, refused, no-rule, resolved, error)',
      labelNames: ['result'],
      registers: [metrics.registry],
    });
  }

  /** After an admin reset: this replica's gauge shows the breaker closed (other replicas' at their next start). */
  markBreakerClosed(rule: string): void {
    this.tripped.set({ rule }, 0);
  }

  countOutcome(outcome: AlertOutcome): AlertOutcome {
    this.outcomes.inc({ result: outcome.result });
    return outcome;
  }

  async handle(rule: AlertRule, alert: Alert, hook: string): Promise<AlertOutcome> {
    const base: AlertOutcome = {
      fingerprint: alert.fingerprint,
      ...(alert.labels.alertname ? { alertname: alert.labels.alertname } : {}),
      status: alert.status,
      rule: rule.id,
      result: 'error',
    };
    const decision = await this.db.transaction((tx) => this.decide(tx, rule, alert, hook));
    if (decision.kind === 'done')
      return this.countOutcome({ ...base, result: decision.result, ...(decision.message ? { message: decision.message } : {}) });
    if (decision.kind === 'suppressed') {
      this.suppressed.inc({ rule: rule.id });
      this.tripped.set({ rule: rule.id }, 1);
      if (decision.isNewlyTripped) await this.recordTrip(rule, alert, hook, decision.startedInWindow);
      return this.countOutcome({
        ...base,
        result: 'suppressed',
        message: `circuit breaker open: ${decision.startedInWindow} remediations in the last hour, maxPerHour ${rule.maxPerHour}`,
      });
    }
    this.tripped.set({ rule: rule.id }, 0);
    if (decision.kind === 'scale') return this.countOutcome({ ...base, ...(await this.scale(rule, alert, hook, decision.change)) });
    try {
      const executionId = await this.start(rule, alert, hook, decision.runbook, decision.params);
      await this.db.query(`UPDATE alert_episodes SET ${decision.column} = $4 WHERE rule_id = $1 AND fingerprint = $2 AND starts_at = $3`, [
        rule.id,
        alert.fingerprint,
        alert.startsAt,
        executionId,
      ]);
      return this.countOutcome({ ...base, result: 'started', executionId });
    } catch (err) {
      // The episode stays claimed: a remediation that cannot start is not retried on every repeat (only after the cooldown).
      this.logger.warn({ rule: rule.id, fingerprint: alert.fingerprint, err: messageOf(err) }, 'alert remediation could not start');
      return this.countOutcome({ ...base, result: 'error', message: messageOf(err) });
    }
  }

  /** Reads and updates the episode and the breaker under a per-rule transaction lock: one decision at a time per rule. */
  private async decide(tx: EntityManager, rule: AlertRule, alert: Alert, hook: string): Promise<Decision> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`baton.alert-rule:${rule.id}`]);
    const key = [rule.id, alert.fingerprint, alert.startsAt];
    const [row]: { remediated_at: Date | null; resolved_at: Date | null }[] = await tx.query(
      `SELECT remediated_at, resolved_at FROM alert_episodes WHERE rule_id = $1 AND fingerprint = $2 AND starts_at = $3`,
      key,
    );
    const episode: EpisodeState | undefined = row ? { remediatedAt: row.remediated_at, resolvedAt: row.resolved_at } : undefined;
    const now = new Date();
    if (alert.status === 'resolved') return this.decideResolved(tx, rule, key, hook, episode);

    const firing = decideFiring(episode, now, parseDuration(rule.cooldown));
    if (firing.action === 'duplicate') return { kind: 'done', result: 'duplicate', message: firing.reason };
    const [state]: { breaker_reset_at: Date | null; tripped_at: Date | null }[] = await tx.query(
      `SELECT breaker_reset_at, tripped_at FROM alert_rules WHERE id = $1`,
      [rule.id],
    );
    const [count]: { n: string }[] = await tx.query(`SELECT count(*) AS n FROM alert_remediations WHERE rule_id = $1 AND started_at > $2`, [
      rule.id,
      breakerWindowStart(now, state?.breaker_reset_at ?? null),
    ]);
    const startedInWindow = Number(count.n);
    if (!isBreakerClosed(startedInWindow, rule.maxPerHour)) {
      await tx.query(
        `INSERT INTO alert_episodes (rule_id, fingerprint, starts_at, hook, suppressed_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (rule_id, fingerprint, starts_at) DO UPDATE SET suppressed_at = now()`,
        [...key, hook],
      );
      const isNewlyTripped = !state?.tripped_at;
      if (isNewlyTripped) {
        await tx.query(`UPDATE alert_rules SET tripped_at = now() WHERE id = $1`, [rule.id]);
        await this.notifications.publishAlertRuleTripped(
          {
            id: rule.id,
            runbook: rule.runbook,
            maxPerHour: rule.maxPerHour,
            startedInWindow,
            hook,
            alertname: alert.labels.alertname,
            fingerprint: alert.fingerprint,
          },
          tx,
        );
      }
      return { kind: 'suppressed', isNewlyTripped, startedInWindow };
    }
    await tx.query(
      `INSERT INTO alert_episodes (rule_id, fingerprint, starts_at, hook, remediated_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (rule_id, fingerprint, starts_at) DO UPDATE SET remediated_at = now()`,
      [...key, hook],
    );
    await tx.query(`INSERT INTO alert_remediations (rule_id, fingerprint, starts_at) VALUES ($1, $2, $3)`, key);
    if (state?.tripped_at) await tx.query(`UPDATE alert_rules SET tripped_at = NULL WHERE id = $1`, [rule.id]);
    if (rule.action) return { kind: 'scale', change: rule.action };
    return { kind: 'start', runbook: rule.runbook!, params: rule.params, column: 'execution_id' };
  }

  private async decideResolved(
    tx: EntityManager,
    rule: AlertRule,
    key: string[],
    hook: string,
    episode: EpisodeState | undefined,
  ): Promise<Decision> {
    const resolved = decideResolved(episode, rule.onResolved !== undefined);
    if (resolved.action === 'duplicate') return { kind: 'done', result: 'duplicate', message: resolved.reason };
    await tx.query(
      `INSERT INTO alert_episodes (rule_id, fingerprint, starts_at, hook, resolved_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (rule_id, fingerprint, starts_at) DO UPDATE SET resolved_at = now()`,
      [...key, hook],
    );
    if (resolved.action === 'close') {
      const message = rule.onResolved
        ? 'resolved; the episode was never remediated, so onResolved does not run'
        : 'resolved; the rule has no onResolved';
      return { kind: 'done', result: 'resolved', message };
    }
    const onResolved = rule.onResolved!;
    if ('action' in onResolved) return { kind: 'scale', change: onResolved.action };
    return { kind: 'start', runbook: onResolved.runbook, params: onResolved.params, column: 'resolved_execution_id' };
  }

  private async start(
    rule: AlertRule,
    alert: Alert,
    hook: string,
    runbook: string,
    params: Record<string, ParamValue> | undefined,
  ): Promise<string> {
    const rendered = renderParams(params, alert);
    if (!rendered.ok) throw new Error(rendered.message);
    const execution = await this.dispatch.start({
      runbookId: runbook,
      params: rendered.value,
      targets: targetsFor(rule, alert),
      trigger: { type: 'webhook', hook, rule: rule.id, fingerprint: alert.fingerprint },
      actor: `webhook:${hook}`,
    });
    return execution.id;
  }

  /**
   * A pool action named by the rule: the pool decides (bounds, its cooldown, which refuses automatic requests) and
   * records the action either way; the outcome names it.
   */
  private async scale(
    rule: AlertRule,
    alert: Alert,
    hook: string,
    change: PoolChange,
  ): Promise<Pick<AlertOutcome, 'result' | 'poolActionId' | 'message'>> {
    const { pool, ...size } = change;
    const alertname = alert.labels.alertname ?? 'alert';
    try {
      const action = await this.scaling.requestScale(pool, size, {
        requester: { type: 'alert', rule: rule.id, hook, fingerprint: alert.fingerprint },
        reason: `${alertname} ${alert.status} (rule ${rule.id})`,
      });
      if (action.status === 'refused') return { result: 'refused', poolActionId: action.id, message: `pool ${pool}: ${action.message}` };
      return { result: 'started', poolActionId: action.id, message: `pool ${pool}: ${action.from} -> ${action.to}` };
    } catch (err) {
      this.logger.warn({ rule: rule.id, pool, err: messageOf(err) }, 'alert pool action could not be requested');
      return { result: 'error', message: `pool ${pool}: ${messageOf(err)}` };
    }
  }

  private async recordTrip(rule: AlertRule, alert: Alert, hook: string, startedInWindow: number): Promise<void> {
    this.logger.warn({ rule: rule.id, startedInWindow, maxPerHour: rule.maxPerHour }, 'alert rule circuit breaker tripped');
    await this.audit.record({
      actor: { type: 'webhook', name: hook },
      action: 'alert.rule.tripped',
      target: `alert-rule:${rule.id}`,
      details: {
        maxPerHour: rule.maxPerHour,
        startedInWindow,
        suppressed: { fingerprint: alert.fingerprint, startsAt: alert.startsAt, labels: alert.labels },
        resume: 'when the hour allows, or POST /api/v1/alert-rules/{id}/reset',
      },
    });
  }
}

/** The rule's targets, with `fromLabel` turned into the node the alert names. */
export function targetsFor(rule: AlertRule, alert: Alert): Targets | undefined {
  if (!rule.targets) return undefined;
  const { fromLabel, ...rest } = rule.targets;
  if (fromLabel === undefined) return rest;
  const node = nodeFromLabel(alert.labels, fromLabel);
  if (!node) throw new Error(`targets.fromLabel: the alert has no usable label "${fromLabel}" to name a node`);
  return { ...rest, names: [node] };
}

function messageOf(err: unknown): string {
  if (err instanceof HttpException) {
    const response = err.getResponse();
    const message = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
    return Array.isArray(message) ? message.join('; ') : String(message);
  }
  return err instanceof Error ? err.message : String(err);
}
