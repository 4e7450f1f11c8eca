/**
 * The runbook library: loaded from RUNBOOKS_DIR at start and stored as content-hashed versions, so every
 * execution can point at exactly the text it ran.
 */
import { Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { In, IsNull, Not, Repository } from 'typeorm';
import type { LoadError, Runbook } from '@baton/shared';
import { canViewRunbook, type Principal } from '../auth/permissions';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { loadResourceDir, type LoadedResource } from './runbook-loader';

import { RunbookRecord, RunbookVersion } from './runbook.entity';

/** Stores the resources of one kind from a load of RUNBOOKS_DIR (see `onResourcesLoaded`). */
export type ResourceLoadListener = (resources: LoadedResource[]) => Promise<void>;

@Injectable()
export class RunbooksService implements OnApplicationBootstrap {
  private readonly logger = new Logger(RunbooksService.name);
  private loadErrors: LoadError[] = [];
  /** Runbooks change only when loaded or saved, and every run reads one: keep them at hand. */
  private readonly cache = new Map<string, RunbookRecord>();
  private readonly loadListeners: ResourceLoadListener[] = [];

  constructor(
    @InjectRepository(RunbookRecord) private readonly runbooks: Repository<RunbookRecord>,
    @InjectRepository(RunbookVersion) private readonly versions: Repository<RunbookVersion>,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.loadFromDirectory(this.config.runbooksDir);
  }

  async loadFromDirectory(dir: string): Promise<void> {
    const { resources, errors } = await loadResourceDir(dir);
    this.loadErrors = errors;
    for (const error of errors) this.logger.warn(error, `skipped resource: ${error.file}:${error.line}:${error.column}: ${error.message}`);
    const loaded = new Set<string>();
    for (const { resource, file } of resources) {
      if (resource.kind !== 'Runbook') continue;
      await this.save(resource, file);
      loaded.add(resource.id);
    }
    await this.forgetRemovedFromFiles(loaded);
    for (const listener of this.loadListeners) await listener(resources);
    this.logger.log({ runbooks: resources.length, errors: errors.length, dir }, 'resources loaded');
  }

  /**
   * Kinds other than Runbook (Job, ...) are stored by their own modules: each registers here (in its
   * `onModuleInit`) and receives every load's resources of all kinds, after the runbooks are saved.
   */
  onResourcesLoaded(listener: ResourceLoadListener): void {
    this.loadListeners.push(listener);
  }

  /**
   * A runbook that came from a file which no longer defines it (deleted, or now failing to load) is no longer
   * runnable; its versions stay, so past executions still show what they ran.
   */
  private async forgetRemovedFromFiles(loaded: Set<string>): Promise<void> {
    const fromFiles = await this.runbooks.find({ where: { sourceFile: Not(IsNull()) }, select: { id: true } });
    const removed = fromFiles.map((r) => r.id).filter((id) => !loaded.has(id));
    if (removed.length === 0) return;
    await this.runbooks.delete({ id: In(removed) });
    for (const id of removed) this.cache.delete(id);
    this.logger.warn({ runbooks: removed }, 'runbooks no longer defined by their files were removed from the catalog');
  }

  /** Stores a runbook; an unchanged one keeps its version, a changed one gets a new version. */
  async save(runbook: Runbook, sourceFile: string | null): Promise<RunbookRecord> {
    const hash = contentHash(runbook);
    await this.versions.createQueryBuilder().insert().values({ hash, runbookId: runbook.id, content: runbook }).orIgnore().execute();
    const record = this.runbooks.create({
      id: runbook.id,
      namespace: runbook.id.split('.')[0],
      title: runbook.title,
      currentHash: hash,
      content: runbook,
      sourceFile,
    });
    const saved = await this.runbooks.save(record);
    this.cache.set(saved.id, saved);
    return saved;
  }

  list(): Promise<RunbookRecord[]> {
    return this.runbooks.find({ order: { id: 'ASC' } });
  }

  async get(id: string): Promise<RunbookRecord> {
    const record = this.cache.get(id) ?? (await this.runbooks.findOneBy({ id }));
    if (!record) throw new NotFoundException(`runbook "${id}" not found`);
    this.cache.set(id, record);
    return record;
  }

  /** The exact runbook an execution ran, by its content hash. */
  async version(hash: string): Promise<Runbook> {
    const version = await this.versions.findOneBy({ hash });
    if (!version) throw new NotFoundException(`runbook version ${hash} not found`);
    return version.content;
  }

  errors(): LoadError[] {
    return this.loadErrors;
  }

  /** A runbook the caller may see, or 404 — also for runbooks that exist but are hidden from the caller. */
  async getVisible(id: string, principal: Principal): Promise<RunbookRecord> {
    const record = await this.get(id);
    if (!canViewRunbook(principal, record.content)) throw new NotFoundException(`runbook "${id}" not found`);
    return record;
  }

  async listVisible(principal: Principal): Promise<RunbookRecord[]> {
    return (await this.list()).filter((r) => canViewRunbook(principal, r.content));
  }

  /**
   * Whether the caller may see what was run as this runbook: judged by the catalog entry, or by the version that
   * ran when the runbook has since left the catalog.
   */
  async isVisible(runbookId: string, hash: string, principal: Principal): Promise<boolean> {
    const record = this.cache.get(runbookId) ?? (await this.runbooks.findOneBy({ id: runbookId }));
    const access = record?.content ?? (await this.versions.findOneBy({ hash }))?.content ?? { id: runbookId };
    return canViewRunbook(principal, access);
  }
}

/** A stable hash of a runbook's content: keys sorted, so formatting and key order do not change it. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
