/**
 * Job definitions: the ones in resource files (replaced at every load, like runbooks) and the ones created through
 * the API (kept until deleted), who may see and change them, and the checks a job passes before it is stored.
 * The scheduler reads them from the database; `events` tells this replica's scheduler at once when one changed.
 */
import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Injectable,
  Logger,
  NotFoundException,
  OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { EventEmitter } from 'node:events';
import { DataSource, In, IsNull, Not, Repository } from 'typeorm';
import { z } from 'zod';
import { jobSpecShape, validateParams, type FieldError, type Job, type Runbook } from '@baton/shared';
import { can, canViewRunbook, namespaceOf, type Principal } from '../auth/permissions';
import type { LoadedResource } from '../runbooks/runbook-loader';
import { RunbooksService } from '../runbooks/runbooks.service';
import { scheduleProblem } from './fire-schedule';
import { JobFire, JobRecord } from './job.entity';

/** A job as the API takes it: apiVersion and kind may be given (a resource file's text), or left out. */
const jobBodySchema = z.strictObject({
  apiVersion: z.literal('baton/v1').default('baton/v1'),
  kind: z.literal('Job').default('Job'),
  ...jobSpecShape,
});

export type JobEvents = { changed: [] };

@Injectable()
export class JobsService implements OnModuleInit {
  private readonly logger = new Logger(JobsService.name);
  readonly events = new EventEmitter<JobEvents>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(JobRecord) private readonly jobs: Repository<JobRecord>,
    @InjectRepository(JobFire) private readonly fires: Repository<JobFire>,
    private readonly runbooks: RunbooksService,
  ) {
    this.events.setMaxListeners(0);
  }

  onModuleInit(): void {
    this.runbooks.onResourcesLoaded((resources) => this.replaceFileJobs(resources));
  }

  /** Stores the jobs of a load of RUNBOOKS_DIR; file jobs no longer in any file are removed. API jobs stay. */
  async replaceFileJobs(resources: LoadedResource[]): Promise<void> {
    const loaded = new Set<string>();
    for (const { resource, file } of resources) {
      if (resource.kind !== 'Job') continue;
      const problems = await this.runbookProblems(resource);
      if (problems.length > 0) {
        // The job is stored anyway: its fires fail with this reason, visible in GET /api/v1/jobs/{id}.
        this.logger.warn({ job: resource.id, file, problems }, `job ${resource.id} in ${file}: ${describe(problems)}`);
      }
      await this.store(resource, file, `file:${file}`);
      loaded.add(resource.id);
    }
    const fromFiles = await this.jobs.find({ where: { sourceFile: Not(IsNull()) }, select: { id: true } });
    const removed = fromFiles.map((j) => j.id).filter((id) => !loaded.has(id));
    if (removed.length > 0) {
      await this.jobs.delete({ id: In(removed) });
      await this.fires.delete({ jobId: In(removed) });
      this.logger.warn({ jobs: removed }, 'jobs no longer defined by their files were removed');
    }
    this.events.emit('changed');
  }

  /** Saves a job; the fire times it owes are counted from now when its schedule changed or it was (re-)enabled. */
  private async store(job: Job, sourceFile: string | null, actor: string): Promise<JobRecord> {
    const existing = await this.jobs.findOneBy({ id: job.id });
    if (existing && existing.sourceFile === sourceFile && JSON.stringify(existing.content) === JSON.stringify(job)) return existing;
    const isRescheduled =
      !existing ||
      (!existing.enabled && job.enabled) ||
      existing.content.schedule.cron !== job.schedule.cron ||
      existing.content.schedule.timezone !== job.schedule.timezone;
    return this.jobs.save(
      this.jobs.create({
        id: job.id,
        namespace: namespaceOf(job.id),
        runbookId: job.runbook,
        content: job,
        enabled: job.enabled,
        sourceFile,
        scheduledSince: isRescheduled ? new Date() : existing.scheduledSince,
        createdBy: existing?.createdBy ?? actor,
      }),
    );
  }

  /** All jobs, for the scheduler. */
  all(): Promise<JobRecord[]> {
    return this.jobs.find({ order: { id: 'ASC' } });
  }

  async listVisible(principal: Principal): Promise<JobRecord[]> {
    const visible: JobRecord[] = [];
    for (const job of await this.all()) if (await this.isVisible(job, principal)) visible.push(job);
    return visible;
  }

  /** A job whose runbook the caller may see, or 404 (also when it exists but its runbook is hidden from the caller). */
  async getVisible(id: string, principal: Principal): Promise<JobRecord> {
    const job = await this.jobs.findOneBy({ id });
    if (!job || !(await this.isVisible(job, principal))) throw new NotFoundException(`job "${id}" not found`);
    return job;
  }

  /** The last fires of a job, newest first. */
  lastFires(jobId: string, limit: number): Promise<JobFire[]> {
    return this.fires.find({ where: { jobId }, order: { fireTime: 'DESC' }, take: limit });
  }

  async create(body: unknown, principal: Principal): Promise<JobRecord> {
    const job = parseJob(body);
    this.assertMayChange(job.id, principal);
    await this.assertRunnable(job, principal);
    if (await this.jobs.existsBy({ id: job.id })) throw new ConflictException(`job "${job.id}" already exists; change it with PATCH`);
    const saved = await this.store(job, null, principal.username);
    this.events.emit('changed');
    return saved;
  }

  /** Changes the fields given; `schedule` fields are merged one by one, so `{schedule: {cron}}` keeps the time zone. */
  async update(id: string, body: unknown, principal: Principal): Promise<JobRecord> {
    const existing = await this.getVisible(id, principal);
    this.assertMayChange(id, principal);
    this.assertNotFromFile(existing);
    if (!isObject(body)) throw badRequest([{ field: '', message: 'the body must be a JSON object with the fields to change' }]);
    if (body.id !== undefined && body.id !== id)
      throw badRequest([{ field: 'id', message: 'a job keeps its id; create a new job instead' }]);
    const schedule = isObject(body.schedule)
      ? { ...existing.content.schedule, ...body.schedule }
      : (body.schedule ?? existing.content.schedule);
    const job = parseJob({ ...existing.content, ...body, schedule });
    await this.assertRunnable(job, principal);
    const saved = await this.store(job, null, principal.username);
    this.events.emit('changed');
    return saved;
  }

  async remove(id: string, principal: Principal): Promise<void> {
    const existing = await this.getVisible(id, principal);
    this.assertMayChange(id, principal);
    this.assertNotFromFile(existing);
    await this.db.transaction(async (tx) => {
      await tx.delete(JobRecord, { id });
      await tx.delete(JobFire, { jobId: id });
    });
    this.events.emit('changed');
  }

  private async isVisible(job: JobRecord, principal: Principal): Promise<boolean> {
    const runbook = await this.runbooks.get(job.runbookId).catch(() => undefined);
    return canViewRunbook(principal, runbook?.content ?? { id: job.runbookId });
  }

  private assertMayChange(id: string, principal: Principal): void {
    if (!can(principal, 'runbooks:write', namespaceOf(id))) {
      throw new ForbiddenException(`you may not change jobs in namespace "${namespaceOf(id)}"`);
    }
  }

  private assertNotFromFile(job: JobRecord): void {
    if (job.sourceFile) {
      throw new ConflictException(`job "${job.id}" is defined in ${job.sourceFile}; change it there (it is reloaded at start)`);
    }
  }

  /** The runbook must exist and be visible to the caller, and take the job's parameters. */
  private async assertRunnable(job: Job, principal: Principal): Promise<void> {
    const problems = await this.runbookProblems(job, principal);
    const schedule = scheduleProblem(job.schedule.cron, job.schedule.timezone);
    if (schedule) problems.push({ field: 'schedule.cron', message: schedule });
    if (problems.length > 0) throw badRequest(problems);
  }

  /** What is wrong between a job and its runbook (as seen by `principal`, when given). */
  private async runbookProblems(job: Job, principal?: Principal): Promise<FieldError[]> {
    const record = await this.runbooks.get(job.runbook).catch(() => undefined);
    if (!record || (principal && !canViewRunbook(principal, record.content))) {
      return [{ field: 'runbook', message: `runbook "${job.runbook}" not found` }];
    }
    return paramProblems(record.content, job.params ?? {});
  }
}

/** The job's parameters against its runbook's: valid values, and no secret written into the job in clear. */
function paramProblems(runbook: Runbook, params: Record<string, unknown>): FieldError[] {
  const problems: FieldError[] = [];
  for (const [name, spec] of Object.entries(runbook.params ?? {})) {
    if (spec.type === 'secret' && params[name] !== undefined) {
      problems.push({
        field: `params.${name}`,
        message: 'a job cannot hold a secret value; leave it out so the runbook uses its stored secret',
      });
    }
  }
  if (problems.length > 0) return problems;
  const checked = validateParams(runbook.params, params);
  return checked.ok ? [] : checked.errors;
}

function parseJob(body: unknown): Job {
  const parsed = jobBodySchema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw badRequest(parsed.error.issues.flatMap(fieldErrorsOf));
}

function fieldErrorsOf(issue: z.core.$ZodIssue): FieldError[] {
  const field = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ field: field ? `${field}.${key}` : key, message: 'unknown field' }));
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return [{ field, message: 'required' }];
  return [{ field, message: issue.message }];
}

function badRequest(problems: FieldError[]): BadRequestException {
  return new BadRequestException({ message: describe(problems), details: problems });
}

function describe(problems: FieldError[]): string {
  return problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
