/**
 * Alert rules: loaded from `kind: AlertRule` files in RUNBOOKS_DIR at start (file rules are changed in their file),
 * created and changed through the API, and their circuit-breaker state (remediations in the window, open or closed).
 */
import { BadRequestException, ConflictException, Injectable, Logger, NotFoundException, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { alertRuleProblems, alertRuleSchema, type AlertRule } from '@baton/shared';
import { replaceFileDefined, type FileDefined } from '../runbooks/file-resources';
import type { LoadedResource } from '../runbooks/runbook-loader';
import { PoolsService } from '../pools/pools.service';
import { RunbooksService } from '../runbooks/runbooks.service';
import { breakerWindowStart } from './episodes';
import { AlertRuleRecord } from './hook.entity';

export interface BreakerState {
  /** Remediations counted towards maxPerHour right now. */
  startedInWindow: number;
  maxPerHour: number;
  isTripped: boolean;
  trippedAt: Date | null;
  resetAt: Date | null;
}

export interface AlertRuleView extends Omit<AlertRule, 'apiVersion' | 'kind'> {
  sourceFile: string | null;
  updatedAt: Date;
  breaker: BreakerState;
}

@Injectable()
export class AlertRulesService implements OnModuleInit {
  private readonly logger = new Logger(AlertRulesService.name);

  constructor(
    @InjectRepository(AlertRuleRecord) private readonly rules: Repository<AlertRuleRecord>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly runbooks: RunbooksService,
    private readonly pools: PoolsService,
  ) {}

  onModuleInit(): void {
    this.runbooks.onResourcesLoaded((resources) => this.storeFileRules(resources));
  }

  /** The rules of a load of RUNBOOKS_DIR (its errors are reported by the runbook catalog). */
  private async storeFileRules(resources: LoadedResource[]): Promise<void> {
    const rules = resources.filter((r) => r.resource.kind === 'AlertRule') as FileDefined[];
    const { stored, removed } = await replaceFileDefined(this.db, 'alert_rules', rules);
    if (removed.length > 0) this.logger.warn({ rules: removed }, 'alert rules no longer defined by their files were removed');
    this.logger.log({ rules: stored.length }, 'alert rules loaded');
  }

  /** Enabled rules that may act on deliveries of this hook. */
  async activeFor(hook: string): Promise<AlertRule[]> {
    const records = await this.rules.find({ order: { id: 'ASC' } });
    return records.map((r) => r.content).filter((rule) => rule.enabled !== false && (rule.hook === undefined || rule.hook === hook));
  }

  async list(): Promise<AlertRuleView[]> {
    const records = await this.rules.find({ order: { id: 'ASC' } });
    return Promise.all(records.map((r) => this.view(r)));
  }

  async get(id: string): Promise<AlertRuleView> {
    return this.view(await this.record(id));
  }

  /** Stores a new rule, already checked by `validate`. */
  async create(rule: AlertRule, user: string): Promise<AlertRuleView> {
    if (await this.rules.existsBy({ id: rule.id })) throw new ConflictException(`alert rule "${rule.id}" already exists`);
    await this.db.query(`INSERT INTO alert_rules (id, content, updated_by) VALUES ($1, $2::jsonb, $3)`, [
      rule.id,
      JSON.stringify(rule),
      user,
    ]);
    return this.get(rule.id);
  }

  /** The rule with the given fields changed (`null` removes an optional one), checked; not stored yet. The id cannot change. */
  async withChanges(id: string, changes: Record<string, unknown>): Promise<AlertRule> {
    const record = await this.apiRecord(id);
    if (changes.id !== undefined && changes.id !== id)
      throw new BadRequestException({ message: 'id: cannot be changed', details: [{ field: 'id' }] });
    const merged: Record<string, unknown> = { ...record.content, ...changes };
    for (const [key, value] of Object.entries(changes)) if (value === null) delete merged[key];
    return this.validate(merged);
  }

  async replace(rule: AlertRule, user: string): Promise<AlertRuleView> {
    await this.apiRecord(rule.id);
    await this.db.query(`UPDATE alert_rules SET content = $2::jsonb, updated_by = $3, updated_at = now() WHERE id = $1`, [
      rule.id,
      JSON.stringify(rule),
      user,
    ]);
    return this.get(rule.id);
  }

  async remove(id: string): Promise<void> {
    await this.apiRecord(id);
    await this.rules.delete({ id });
  }

  /** Closes the breaker: remediations before now no longer count. */
  async resetBreaker(id: string): Promise<AlertRuleView> {
    await this.record(id);
    await this.db.query(`UPDATE alert_rules SET breaker_reset_at = now(), tripped_at = NULL WHERE id = $1`, [id]);
    return this.get(id);
  }

  /** A rule as the API accepts it: apiVersion and kind may be left out; the runbooks it runs must exist. */
  async validate(input: unknown): Promise<AlertRule> {
    const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {};
    const parsed = alertRuleSchema.safeParse({ apiVersion: 'baton/v1', kind: 'AlertRule', ...body });
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message }));
      throw new BadRequestException({ message: details.map((d) => `${d.field}: ${d.message}`).join('; '), details });
    }
    const problems = alertRuleProblems(parsed.data);
    if (problems.length > 0) {
      throw new BadRequestException({
        message: problems.map((p) => p.message).join('; '),
        details: problems.map((p) => ({ field: p.path.join('.'), message: p.message })),
      });
    }
    for (const [field, runbook] of [
      ['runbook', parsed.data.runbook],
      ['onResolved.runbook', parsed.data.onResolved && 'runbook' in parsed.data.onResolved ? parsed.data.onResolved.runbook : undefined],
    ] as const) {
      if (runbook === undefined) continue;
      const exists = await this.runbooks.get(runbook).then(
        () => true,
        () => false,
      );
      if (!exists) throw new BadRequestException({ message: `${field}: runbook "${runbook}" not found`, details: [{ field }] });
    }
    for (const [field, change] of [
      ['action.pool', parsed.data.action],
      ['onResolved.action.pool', parsed.data.onResolved && 'action' in parsed.data.onResolved ? parsed.data.onResolved.action : undefined],
    ] as const) {
      if (change === undefined) continue;
      const exists = await this.pools.record(change.pool).then(
        () => true,
        () => false,
      );
      if (!exists) throw new BadRequestException({ message: `${field}: pool "${change.pool}" not found`, details: [{ field }] });
    }
    return parsed.data;
  }

  private async record(id: string): Promise<AlertRuleRecord> {
    const record = await this.rules.findOneBy({ id });
    if (!record) throw new NotFoundException(`alert rule "${id}" not found`);
    return record;
  }

  private async apiRecord(id: string): Promise<AlertRuleRecord> {
    const record = await this.record(id);
    if (record.sourceFile) throw new ConflictException(`alert rule "${id}" is defined in ${record.sourceFile}; change it there`);
    return record;
  }

  private async view(record: AlertRuleRecord): Promise<AlertRuleView> {
    const { apiVersion: _apiVersion, kind: _kind, ...rule } = record.content;
    return { ...rule, sourceFile: record.sourceFile, updatedAt: record.updatedAt, breaker: await this.breaker(record) };
  }

  private async breaker(record: AlertRuleRecord): Promise<BreakerState> {
    const since = breakerWindowStart(new Date(), record.breakerResetAt);
    const [row]: { n: string }[] = await this.db.query(
      `SELECT count(*) AS n FROM alert_remediations WHERE rule_id = $1 AND started_at > $2`,
      [record.id, since],
    );
    return {
      startedInWindow: Number(row.n),
      maxPerHour: record.content.maxPerHour,
      isTripped: record.trippedAt !== null,
      trippedAt: record.trippedAt,
      resetAt: record.breakerResetAt,
    };
  }
}
