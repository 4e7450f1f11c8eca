/**
 * The runbook library: loaded from RUNBOOKS_DIR at start and again whenever a file there changes (hot reload),
 * stored as content-hashed versions, so every execution can point at exactly the text it ran.
 */
import { Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { In, IsNull, Not, Repository } from 'typeorm';
import type { LoadError, Runbook } from '@baton/shared';
import { canViewRunbook, type Principal } from '../auth/permissions';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { listDirectories, ResourceDirReader, type LoadedFile, type LoadedResource } from './runbook-loader';
import { ResourceWatcher } from './resource-watcher';

import { RunbookRecord, RunbookVersion } from './runbook.entity';

/** Stores the resources of one kind from a load of RUNBOOKS_DIR (see `onResourcesLoaded`). */
export type ResourceLoadListener = (resources: LoadedResource[]) => Promise<void>;

/** Changes to files within this long of each other are one reload: one new version per save, not one per write. */
export const RELOAD_DEBOUNCE_MS = 300;

@Injectable()
export class RunbooksService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RunbooksService.name);
  private loadErrors: LoadError[] = [];
  /** Runbooks change only when loaded or saved, and every run reads one: keep them at hand. */
  private readonly cache = new Map<string, RunbookRecord>();
  private readonly loadListeners: ResourceLoadListener[] = [];
  private readonly readers = new Map<string, ResourceDirReader>();
  /** What each file defined the last time it loaded without errors: a broken edit keeps serving this. */
  private readonly lastGood = new Map<string, LoadedResource[]>();
  /** Loads run one after another; the next waits for this one. */
  private loading: Promise<void> = Promise.resolve();
  private watcher?: ResourceWatcher;

  constructor(
    @InjectRepository(RunbookRecord) private readonly runbooks: Repository<RunbookRecord>,
    @InjectRepository(RunbookVersion) private readonly versions: Repository<RunbookVersion>,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.loadFromDirectory(this.config.runbooksDir);
    if (this.config.isRunbooksWatchEnabled) await this.watch(this.config.runbooksDir);
  }

  async onModuleDestroy(): Promise<void> {
    this.watcher?.close();
    await this.loading;
  }

  /** Loads the directory now (after any load in progress); resolves when the resources are stored. */
  loadFromDirectory(dir: string): Promise<void> {
    const load = this.loading.then(() => this.load(dir));
    this.loading = load.catch(() => undefined);
    return load;
  }

  private async watch(dir: string): Promise<void> {
    const reload = () =>
      this.loadFromDirectory(dir)
        .then(async () => this.watcher?.watchDirectories(await listDirectories(dir)))
        .catch((err: Error) => this.logger.error({ err, dir }, `reloading ${dir} failed: ${err.message}`));
    this.watcher = new ResourceWatcher(reload, RELOAD_DEBOUNCE_MS, (watched, err) =>
      this.logger.warn({ dir: watched, err: err.message }, `cannot watch ${watched}: changes there need a restart`),
    );
    this.watcher.watchDirectories(await listDirectories(dir));
  }

  private async load(dir: string): Promise<void> {
    const reader = this.readers.get(dir) ?? new ResourceDirReader(dir);
    this.readers.set(dir, reader);
    const files = await reader.read();
    const errors = files.flatMap((f) => f.errors);
    this.loadErrors = errors;
    for (const error of errors) this.logger.warn(error, `skipped resource: ${error.file}:${error.line}:${error.column}: ${error.message}`);
    const { resources, brokenFiles } = this.withLastGood(files);
    const loaded = new Set<string>();
    const changed: string[] = [];
    for (const { resource, file } of resources) {
      if (resource.kind !== 'Runbook') continue;
      loaded.add(resource.id);
      if (this.isStored(resource, file)) continue;
      await this.save(resource, file);
      changed.push(resource.id);
    }
    await this.forgetRemovedFromFiles(loaded, brokenFiles);
    for (const listener of this.loadListeners) await listener(resources);
    this.logger.log({ runbooks: loaded.size, changed, errors: errors.length, dir }, 'resources loaded');
  }

  /**
   * The resources to store: each file's own, except that a file with errors keeps what it defined when it last
   * loaded cleanly (half an edit never replaces a working runbook). A file broken since the portal started has no
   * such memory here; its runbooks keep their stored version (see `forgetRemovedFromFiles`).
   */
  private withLastGood(files: LoadedFile[]): { resources: LoadedResource[]; brokenFiles: Set<string> } {
    const present = new Set(files.map((f) => f.file));
    for (const file of this.lastGood.keys()) if (!present.has(file)) this.lastGood.delete(file);
    const resources: LoadedResource[] = [];
    const brokenFiles = new Set<string>();
    for (const { file, resources: own, errors } of files) {
      if (errors.length === 0) {
        this.lastGood.set(file, own);
        resources.push(...own);
        continue;
      }
      brokenFiles.add(file);
      const kept = this.lastGood.get(file);
      if (kept) this.logger.warn({ file }, `${file} has errors: its last good version stays loaded`);
      resources.push(...(kept ?? own));
    }
    return { resources, brokenFiles };
  }

  /** Whether this exact runbook from this file is what the catalog holds already (nothing to write). */
  private isStored(runbook: Runbook, file: string): boolean {
    const record = this.cache.get(runbook.id);
    return record !== undefined && record.sourceFile === file && record.currentHash === contentHash(runbook);
  }

  /**
   * Kinds other than Runbook (Job, ...) are stored by their own modules: each registers here (in its
   * `onModuleInit`) and receives every load's resources of all kinds, after the runbooks are saved.
   */
  onResourcesLoaded(listener: ResourceLoadListener): void {
    this.loadListeners.push(listener);
  }

  /**
   * A runbook that came from a file which no longer defines it (the file is deleted, or defines it no more) is
   * retired: no longer runnable, while its versions stay, so past executions still show what they ran. A file
   * with errors retires nothing: its runbooks keep the version stored last.
   */
  private async forgetRemovedFromFiles(loaded: Set<string>, brokenFiles: Set<string>): Promise<void> {
    const fromFiles = await this.runbooks.find({ where: { sourceFile: Not(IsNull()) }, select: { id: true, sourceFile: true } });
    const removed = fromFiles.filter((r) => !loaded.has(r.id) && !brokenFiles.has(r.sourceFile!)).map((r) => r.id);
    if (removed.length === 0) return;
    await this.runbooks.delete({ id: In(removed) });
    for (const id of removed) this.cache.delete(id);
    this.logger.warn({ runbooks: removed }, 'runbooks no longer defined by their files were retired (their versions stay)');
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
