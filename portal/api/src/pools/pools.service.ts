/**
 * The pool catalog: pools loaded from `kind: Pool` files in RUNBOOKS_DIR at start (file pools are changed in their
 * file), created and changed through the API, and the view of each pool with its live size (`actual`).
 */
import { BadRequestException, ConflictException, Injectable, Logger, NotFoundException, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { parseDuration, poolProblems, poolSchema, type Pool } from '@baton/shared';
import { NodesService } from '../nodes/nodes.service';
import { replaceFileDefined, type FileDefined } from '../runbooks/file-resources';
import type { LoadedResource } from '../runbooks/runbook-loader';
import { RunbooksService } from '../runbooks/runbooks.service';
import { PoolRecord } from './pool.entity';
import { cooldownEnd } from './scaling';

export interface PoolView extends Omit<Pool, 'apiVersion' | 'kind'> {
  /** The size the provider was last asked for; null before the first action. */
  desired: number | null;
  /** Live nodes matching the selector now. */
  actual: number;
  nodes: string[];
  lastActionAt: Date | null;
  /** Until when automatic requests are refused; null when not cooling down. */
  cooldownUntil: Date | null;
  sourceFile: string | null;
  updatedAt: Date;
}

@Injectable()
export class PoolsService implements OnModuleInit {
  private readonly logger = new Logger(PoolsService.name);

  constructor(
    @InjectRepository(PoolRecord) private readonly pools: Repository<PoolRecord>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly nodes: NodesService,
    private readonly runbooks: RunbooksService,
  ) {}

  onModuleInit(): void {
    this.runbooks.onResourcesLoaded((resources) => this.storeFilePools(resources));
  }

  /** The pools of a load of RUNBOOKS_DIR (its errors are reported by the runbook catalog); `desired` is kept. */
  private async storeFilePools(resources: LoadedResource[]): Promise<void> {
    const pools = resources.filter((r) => r.resource.kind === 'Pool') as FileDefined[];
    const { stored, removed } = await replaceFileDefined(this.db, 'pools', pools);
    if (removed.length > 0) this.logger.warn({ pools: removed }, 'pools no longer defined by their files were removed');
    this.logger.log({ pools: stored.length }, 'pools loaded');
  }

  async list(): Promise<PoolView[]> {
    const records = await this.pools.find({ order: { id: 'ASC' } });
    return Promise.all(records.map((r) => this.view(r)));
  }

  async get(id: string): Promise<PoolView> {
    return this.view(await this.record(id));
  }

  async record(id: string): Promise<PoolRecord> {
    const record = await this.pools.findOneBy({ id });
    if (!record) throw new NotFoundException(`pool "${id}" not found`);
    return record;
  }

  /** The names of the live nodes matching a pool's selector, oldest registration first. */
  async liveNodes(pool: Pool): Promise<{ name: string; registeredAt: Date }[]> {
    return this.nodes.liveMatching(pool.selector.labels);
  }

  async create(pool: Pool, user: string): Promise<PoolView> {
    if (await this.pools.existsBy({ id: pool.id })) throw new ConflictException(`pool "${pool.id}" already exists`);
    await this.db.query(`INSERT INTO pools (id, content, updated_by) VALUES ($1, $2::jsonb, $3)`, [pool.id, JSON.stringify(pool), user]);
    return this.get(pool.id);
  }

  /** The pool with the given fields changed (`null` removes an optional one), checked; not stored yet. */
  async withChanges(id: string, changes: Record<string, unknown>): Promise<Pool> {
    const record = await this.apiRecord(id);
    if (changes.id !== undefined && changes.id !== id)
      throw new BadRequestException({ message: 'id: cannot be changed', details: [{ field: 'id' }] });
    const merged: Record<string, unknown> = { ...record.content, ...changes };
    for (const [key, value] of Object.entries(changes)) if (value === null) delete merged[key];
    return this.validate(merged);
  }

  async replace(pool: Pool, user: string): Promise<PoolView> {
    await this.apiRecord(pool.id);
    await this.db.query(`UPDATE pools SET content = $2::jsonb, updated_by = $3, updated_at = now() WHERE id = $1`, [
      pool.id,
      JSON.stringify(pool),
      user,
    ]);
    return this.get(pool.id);
  }

  async remove(id: string): Promise<void> {
    await this.apiRecord(id);
    await this.pools.delete({ id });
  }

  /** A pool as the API accepts it: apiVersion and kind may be left out; its provider runbooks must exist. */
  async validate(input: unknown): Promise<Pool> {
    const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {};
    const parsed = poolSchema.safeParse({ apiVersion: 'baton/v1', kind: 'Pool', ...body });
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message }));
      throw new BadRequestException({ message: details.map((d) => `${d.field}: ${d.message}`).join('; '), details });
    }
    const problems = poolProblems(parsed.data);
    if (problems.length > 0) {
      throw new BadRequestException({
        message: problems.map((p) => p.message).join('; '),
        details: problems.map((p) => ({ field: p.path.join('.'), message: p.message })),
      });
    }
    for (const field of ['scaleOut', 'scaleIn'] as const) {
      const runbook = parsed.data[field].runbook;
      const exists = await this.runbooks.get(runbook).then(
        () => true,
        () => false,
      );
      if (!exists)
        throw new BadRequestException({
          message: `${field}.runbook: runbook "${runbook}" not found`,
          details: [{ field: `${field}.runbook` }],
        });
    }
    return parsed.data;
  }

  private async apiRecord(id: string): Promise<PoolRecord> {
    const record = await this.record(id);
    if (record.sourceFile) throw new ConflictException(`pool "${id}" is defined in ${record.sourceFile}; change it there`);
    return record;
  }

  private async view(record: PoolRecord): Promise<PoolView> {
    const { apiVersion: _apiVersion, kind: _kind, ...pool } = record.content;
    const live = await this.liveNodes(record.content);
    const cooldownUntil = cooldownEnd({ lastActionAt: record.lastActionAt, cooldownMs: parseDuration(pool.cooldown) });
    return {
      ...pool,
      desired: record.desired,
      actual: live.length,
      nodes: live.map((n) => n.name),
      lastActionAt: record.lastActionAt,
      cooldownUntil: cooldownUntil && cooldownUntil > new Date() ? cooldownUntil : null,
      sourceFile: record.sourceFile,
      updatedAt: record.updatedAt,
    };
  }
}
