/**
 * The jobs API: list, read (with the next fire times and the last fires), create, change, delete, run now.
 * Reading needs runbooks:read and a visible runbook; changing needs runbooks:write; running needs the right to run
 * the job's runbook. Bodies are checked by the shared Job schema (see JobsService), errors naming the field.
 */
import { Body, ConflictException, Controller, Delete, ForbiddenException, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { AuditAction } from '../audit/audit-action.decorator';
import { CurrentUser } from '../auth/current-user.decorator';
import { canRunRunbook, RequirePermission, type Principal } from '../auth/permissions';
import { RunbooksService } from '../runbooks/runbooks.service';
import { JobScheduler } from './job-scheduler.service';
import type { JobFire, JobRecord } from './job.entity';
import { JobsService } from './jobs.service';

const NEXT_FIRE_TIMES = 5;
const LAST_FIRES = 20;

const JOB_BODY_EXAMPLE = {
  id: 'ops.nightly-disk-report',
  runbook: 'ops.disk-usage',
  params: { target_path: '/var/log' },
  schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
  concurrency: 'forbid',
  misfire: 'skip',
  enabled: true,
};

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('api/v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly scheduler: JobScheduler,
    private readonly runbooks: RunbooksService,
  ) {}

  /** The jobs whose runbook the caller may see. */
  @RequirePermission('runbooks:read')
  @Get()
  async list(@CurrentUser() user: Principal) {
    return (await this.jobs.listVisible(user)).map((job) => ({ ...view(job), nextFireTimes: this.scheduler.nextFireTimes(job, 1) }));
  }

  /** A job with its next 5 fire times and its last fires (started, skipped or failed, with the reason). */
  @RequirePermission('runbooks:read')
  @Get(':id')
  async get(@Param('id') id: string, @CurrentUser() user: Principal) {
    const job = await this.jobs.getVisible(id, user);
    const fires = await this.jobs.lastFires(id, LAST_FIRES);
    return { ...view(job), nextFireTimes: this.scheduler.nextFireTimes(job, NEXT_FIRE_TIMES), lastFires: fires.map(fireView) };
  }

  @RequirePermission('runbooks:write')
  @AuditAction('job.create', { target: (r) => `job:${String((r.body as { id?: unknown } | undefined)?.id)}` })
  @ApiBody({ schema: { type: 'object', example: JOB_BODY_EXAMPLE } })
  @Post()
  async create(@Body() body: unknown, @CurrentUser() user: Principal) {
    return view(await this.jobs.create(body, user));
  }

  /** Changes the fields given (schedule fields one by one). Jobs defined in files are changed in their file. */
  @RequirePermission('runbooks:write')
  @AuditAction('job.update')
  @ApiBody({ schema: { type: 'object', example: { enabled: false, schedule: { cron: '0 3 * * *' } } } })
  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: unknown, @CurrentUser() user: Principal) {
    return view(await this.jobs.update(id, body, user));
  }

  @RequirePermission('runbooks:write')
  @AuditAction('job.delete')
  @Delete(':id')
  async remove(@Param('id') id: string, @CurrentUser() user: Principal) {
    await this.jobs.remove(id, user);
    return { id, deleted: true };
  }

  /** Runs the job now, for whoever may run its runbook, under the job's concurrency policy (forbid: 409 while one runs). */
  @RequirePermission('runbooks:run')
  @AuditAction('job.run')
  @Post(':id/run')
  @HttpCode(201)
  async run(@Param('id') id: string, @CurrentUser() user: Principal) {
    const job = await this.jobs.getVisible(id, user);
    const runbook = await this.runbooks.get(job.runbookId);
    if (!canRunRunbook(user, runbook.content)) throw new ForbiddenException(`you may not run runbook "${job.runbookId}" of job "${id}"`);
    const result = await this.scheduler.runNow(job, user);
    if (result.outcome === 'skipped') throw new ConflictException(`job "${id}" not started: ${result.reason}`);
    if (result.outcome === 'failed') throw new ConflictException(`job "${id}" could not start: ${result.reason}`);
    return { id: result.executionId, job: id };
  }
}

function view(job: JobRecord) {
  const { apiVersion: _apiVersion, kind: _kind, ...spec } = job.content;
  return { ...spec, sourceFile: job.sourceFile, createdBy: job.createdBy, createdAt: job.createdAt, updatedAt: job.updatedAt };
}

function fireView(fire: JobFire) {
  return {
    fireTime: fire.fireTime,
    kind: fire.kind,
    outcome: fire.outcome,
    reason: fire.reason ?? undefined,
    execution: fire.executionId ?? undefined,
    coversUntil: fire.coversUntil ?? undefined,
    claimedBy: fire.claimedBy,
    claimedAt: fire.claimedAt,
  };
}
