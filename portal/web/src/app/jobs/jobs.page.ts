/**
 * Jobs: every scheduled job whose runbook the person may see, with its schedule, next fire time and policy, and a
 * detail panel for the chosen job (next 5 fire times, last fires linking to their executions). Whoever may run the
 * job's runbook may run it now; global editors and admins enable and disable it (jobs from files change in their file).
 */
import { Component, computed, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { Api, ApiError, asApiError, segment } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { formatTime } from '../core/format';
import { Me } from '../core/me';
import { canEditJobs, whyCannotRun } from '../core/permissions';
import { RunbookDetail } from '../runbooks/runbook';
import {
  JobDetail,
  JobFireView,
  JobView,
  describeConcurrency,
  describeFire,
  fireStatusClass,
  formatFireTime,
  formatSchedule,
  nextFireText,
} from './jobs';

@Component({
  selector: 'baton-jobs-page',
  imports: [ErrorNotice, RouterLink],
  template: `
    <div class="page-head">
      <h1>Jobs</h1>
      <button type="button" class="small quiet" (click)="refresh()">Refresh</button>
    </div>
    <p class="hint">Runbooks run on a schedule. See docs/runbooks.md, section Jobs.</p>
    <baton-error-notice [error]="error()" />
    @if (started(); as started) {
      <p class="notice ok" role="status">
        Job {{ started.job }} started: <a [routerLink]="['/executions', started.id]">execution {{ started.id.slice(0, 8) }}</a>
      </p>
    }
    @if (notice(); as notice) {
      <p class="notice ok" role="status">{{ notice }}</p>
    }

    <section aria-labelledby="jobs-heading">
      <h2 id="jobs-heading" class="visually-hidden">All jobs</h2>
      <div class="table-wrap">
        <table aria-labelledby="jobs-heading">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Runbook</th>
              <th scope="col">Schedule</th>
              <th scope="col">Next fire</th>
              <th scope="col">Enabled</th>
              <th scope="col">Concurrency</th>
              <th scope="col"><span class="muted">Details</span></th>
            </tr>
          </thead>
          <tbody>
            @for (job of jobs(); track job.id) {
              <tr [class.selected]="job.id === selectedId()">
                <td class="mono">{{ job.id }}</td>
                <td>
                  <a class="mono" [routerLink]="['/runbooks', job.runbook]">{{ job.runbook }}</a>
                </td>
                <td class="mono small">{{ schedule(job) }}</td>
                <td class="small">{{ nextFire(job) }}</td>
                <td>
                  <span class="status" [class]="job.enabled ? 'online' : 'skipped'">{{ job.enabled ? 'enabled' : 'disabled' }}</span>
                </td>
                <td [attr.title]="concurrency(job.concurrency)">{{ job.concurrency }}</td>
                <td>
                  <button
                    type="button"
                    class="small quiet"
                    (click)="select(job.id)"
                    [attr.aria-pressed]="job.id === selectedId()"
                    [attr.aria-label]="'Show details of job ' + job.id"
                  >
                    Details
                  </button>
                </td>
              </tr>
            } @empty {
              <tr>
                <td colspan="7" class="muted">{{ isLoading() ? 'Loading…' : 'No jobs you may see.' }}</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
    </section>

    @if (detail(); as job) {
      <section class="card" aria-labelledby="job-detail-heading">
        <div class="page-head">
          <h2 id="job-detail-heading" style="margin-top:0">Job <span class="mono">{{ job.id }}</span></h2>
          <div class="row">
            <button
              type="button"
              class="small"
              (click)="runNow(job.id)"
              [disabled]="runRefusal() !== null || isBusy()"
              [attr.aria-describedby]="runRefusal() ? 'job-run-refusal' : null"
              [attr.aria-label]="'Run job ' + job.id + ' now'"
            >
              Run now
            </button>
            @if (canEdit()) {
              <button
                type="button"
                class="small quiet"
                (click)="setEnabled(job.id, !job.enabled)"
                [disabled]="job.sourceFile !== null || isBusy()"
                [attr.aria-describedby]="job.sourceFile !== null ? 'job-file-hint' : null"
                [attr.aria-label]="(job.enabled ? 'Disable job ' : 'Enable job ') + job.id"
              >
                {{ job.enabled ? 'Disable' : 'Enable' }}
              </button>
            }
          </div>
        </div>
        @if (runRefusal(); as reason) {
          <p id="job-run-refusal" class="hint">{{ reason }}</p>
        }
        @if (canEdit() && job.sourceFile !== null) {
          <p id="job-file-hint" class="hint">Defined in {{ job.sourceFile }}: enable or disable it there.</p>
        }
        @if (job.description) {
          <p>{{ job.description }}</p>
        }
        <dl class="facts">
          <dt>Runbook</dt>
          <dd><a class="mono" [routerLink]="['/runbooks', job.runbook]">{{ job.runbook }}</a></dd>
          <dt>Schedule</dt>
          <dd class="mono">{{ schedule(job) }}</dd>
          <dt>Enabled</dt>
          <dd>{{ job.enabled ? 'yes' : 'no' }}</dd>
          <dt>Concurrency</dt>
          <dd>{{ concurrency(job.concurrency) }}</dd>
          <dt>Missed fires</dt>
          <dd>{{ job.misfire === 'runOnce' ? 'run once for all of them' : 'skipped' }}</dd>
          @if (job.params && paramsText(job) !== '{}') {
            <dt>Parameters</dt>
            <dd class="mono small">{{ paramsText(job) }}</dd>
          }
          <dt>Defined</dt>
          <dd>
            @if (job.sourceFile) {
              in <span class="mono">{{ job.sourceFile }}</span>
            } @else {
              through the API by {{ job.createdBy ?? 'unknown' }}, {{ formatTime(job.createdAt) }}
            }
          </dd>
        </dl>

        <h3 id="next-fires-heading">Next fire times</h3>
        @if (job.nextFireTimes.length > 0) {
          <ol aria-labelledby="next-fires-heading">
            @for (time of job.nextFireTimes; track time) {
              <li>{{ fireTime(time, job) }}</li>
            }
          </ol>
        } @else {
          <p class="muted">{{ job.enabled ? 'None.' : 'None while the job is disabled.' }}</p>
        }

        <h3 id="last-fires-heading">Last fires</h3>
        <div class="table-wrap">
          <table aria-labelledby="last-fires-heading">
            <thead>
              <tr>
                <th scope="col">Fire time</th>
                <th scope="col">Outcome</th>
                <th scope="col">Execution</th>
                <th scope="col">Claimed by</th>
              </tr>
            </thead>
            <tbody>
              @for (fire of job.lastFires; track fire.fireTime + fire.kind) {
                <tr>
                  <td>
                    {{ fireTime(fire.fireTime, job) }}
                    @if (fire.coversUntil) {
                      <span class="muted small">until {{ fireTime(fire.coversUntil, job) }}</span>
                    }
                  </td>
                  <td>
                    <span class="status" [class]="statusClass(fire)">{{ describe(fire) }}</span>
                  </td>
                  <td>
                    @if (fire.execution) {
                      <a [routerLink]="['/executions', fire.execution]" [attr.aria-label]="'Execution ' + fire.execution"
                        >{{ fire.execution.slice(0, 8) }}</a
                      >
                    } @else {
                      <span class="muted">—</span>
                    }
                  </td>
                  <td class="mono small">{{ fire.claimedBy }}</td>
                </tr>
              } @empty {
                <tr>
                  <td colspan="4" class="muted">Not fired yet.</td>
                </tr>
              }
            </tbody>
          </table>
        </div>
      </section>
    } @else if (selectedId()) {
      <p class="muted" role="status">Loading job {{ selectedId() }}…</p>
    }
  `,
  styles: `
    tr.selected td {
      background: var(--bg);
    }
    .visually-hidden {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
    }
  `,
})
export class JobsPage {
  protected readonly me = inject(Me);
  protected readonly jobs = signal<JobView[]>([]);
  protected readonly selectedId = signal<string | null>(null);
  protected readonly detail = signal<JobDetail | null>(null);
  /** The selected job's runbook, for who may run it; null while loading or when it cannot be read. */
  protected readonly runbook = signal<RunbookDetail | null>(null);
  protected readonly runbookError = signal<string | null>(null);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly notice = signal<string | null>(null);
  protected readonly started = signal<{ id: string; job: string } | null>(null);
  protected readonly isLoading = signal(true);
  protected readonly isBusy = signal(false);

  protected readonly canEdit = computed(() => {
    const me = this.me.principal();
    return me !== null && canEditJobs(me);
  });
  protected readonly runRefusal = computed(() => {
    const me = this.me.principal();
    if (!me) return 'Loading who you are…';
    if (this.runbookError()) return this.runbookError();
    const runbook = this.runbook();
    if (!runbook) return 'Loading the runbook…';
    return whyCannotRun(me, runbook);
  });

  protected readonly formatTime = formatTime;
  protected readonly schedule = (job: JobView) => formatSchedule(job.schedule);
  protected readonly nextFire = (job: JobView) => nextFireText(job);
  protected readonly fireTime = (time: string, job: JobView) => formatFireTime(time, job.schedule.timezone);
  protected readonly concurrency = describeConcurrency;
  protected readonly describe = describeFire;
  protected readonly statusClass = (fire: JobFireView) => fireStatusClass(fire.outcome);
  private readonly api = inject(Api);

  constructor() {
    void this.me.load();
    void this.reload();
  }

  protected paramsText(job: JobView): string {
    return JSON.stringify(job.params ?? {});
  }

  protected select(id: string): void {
    if (this.selectedId() === id) return;
    this.selectedId.set(id);
    this.detail.set(null);
    this.runbook.set(null);
    this.runbookError.set(null);
    void this.loadDetail();
  }

  protected refresh(): void {
    void this.reload();
  }

  protected async runNow(id: string): Promise<void> {
    await this.act(null, async () => {
      const result = await this.api.postJson<{ id: string; job: string }>(`/jobs/${segment(id)}/run`, {});
      this.started.set(result);
    });
  }

  protected async setEnabled(id: string, enabled: boolean): Promise<void> {
    await this.act(`Job ${id} ${enabled ? 'enabled' : 'disabled'}.`, () => this.api.patchJson(`/jobs/${segment(id)}`, { enabled }));
  }

  /** Runs one change, shows its outcome, and reloads the list and the detail. */
  private async act(success: string | null, change: () => Promise<unknown>): Promise<void> {
    this.error.set(null);
    this.notice.set(null);
    this.started.set(null);
    this.isBusy.set(true);
    try {
      await change();
      this.notice.set(success);
    } catch (error) {
      this.error.set(asApiError(error));
    } finally {
      this.isBusy.set(false);
    }
    await this.reload();
  }

  private async reload(): Promise<void> {
    try {
      const jobs = await this.api.getJson<JobView[]>('/jobs');
      this.jobs.set(jobs);
      const selected = this.selectedId();
      if (selected !== null && !jobs.some((job) => job.id === selected)) {
        this.selectedId.set(null);
        this.detail.set(null);
      } else if (selected === null && jobs.length > 0) {
        this.select(jobs[0].id);
        return;
      }
    } catch (error) {
      this.error.set(asApiError(error));
    } finally {
      this.isLoading.set(false);
    }
    await this.loadDetail();
  }

  private async loadDetail(): Promise<void> {
    const id = this.selectedId();
    if (id === null) return;
    try {
      const job = await this.api.getJson<JobDetail>(`/jobs/${segment(id)}`);
      if (this.selectedId() !== id) return;
      this.detail.set(job);
      if (this.runbook()?.id !== job.runbook) await this.loadRunbook(job.runbook);
    } catch (error) {
      this.error.set(asApiError(error));
    }
  }

  private async loadRunbook(runbookId: string): Promise<void> {
    try {
      const runbook = await this.api.getJson<RunbookDetail>(`/runbooks/${segment(runbookId)}`);
      if (this.detail()?.runbook !== runbookId) return;
      this.runbook.set(runbook);
      this.runbookError.set(null);
    } catch (error) {
      if (this.detail()?.runbook !== runbookId) return;
      this.runbookError.set(`The runbook ${runbookId} could not be read: ${asApiError(error).message}`);
    }
  }
}
