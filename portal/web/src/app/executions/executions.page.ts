/** Execution history, newest first, filtered by runbook and status (`GET /executions?runbook=&status=&limit=`). */
import { Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { Api, ApiError, asApiError } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { formatDuration, formatTime } from '../core/format';
import { RunbookSummary } from '../runbooks/runbook';
import { EXECUTION_STATUSES, ExecutionSummary, describeTrigger } from './execution';

const PAGE_SIZE = 50;

@Component({
  selector: 'baton-executions-page',
  imports: [ErrorNotice, RouterLink],
  template: `
    <h1>Executions</h1>
    <baton-error-notice [error]="error()" />
    <form class="filters" role="search" aria-label="Filter executions" (submit)="$event.preventDefault()">
      <div class="field">
        <label for="filter-runbook">Runbook</label>
        <select id="filter-runbook" (change)="setFilter('runbook', textOf($event))">
          <option value="" [selected]="!runbook()">All runbooks</option>
          @for (r of runbooks(); track r.id) {
            <option [value]="r.id" [selected]="runbook() === r.id">{{ r.id }}</option>
          }
        </select>
      </div>
      <div class="field">
        <label for="filter-status">Status</label>
        <select id="filter-status" (change)="setFilter('status', textOf($event))">
          <option value="" [selected]="!status()">Any status</option>
          @for (s of statuses; track s) {
            <option [value]="s" [selected]="status() === s">{{ s }}</option>
          }
        </select>
      </div>
      <button type="button" class="quiet" (click)="load()">Refresh</button>
    </form>
    @if (executions(); as executions) {
      <div class="table-wrap">
        <table>
          <caption class="muted small" style="text-align:left;padding:0.5rem 0.75rem">
            {{
              executions.length
            }}
            executions{{
              hasMore() ? ', newest first — more below' : ''
            }}
          </caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Runbook</th>
              <th scope="col">Trigger</th>
              <th scope="col">Actor</th>
              <th scope="col">Created</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            @for (e of executions; track e.id) {
              <tr>
                <td>
                  <a [routerLink]="['/executions', e.id]" [attr.aria-label]="e.runbook + ' ' + e.status + ', ' + formatTime(e.createdAt)"
                    ><span class="status" [class]="e.status">{{ e.status }}</span></a
                  >
                </td>
                <td class="mono">{{ e.runbook }}</td>
                <td>{{ trigger(e) }}</td>
                <td>{{ e.actor }}</td>
                <td>{{ formatTime(e.createdAt) }}</td>
                <td>{{ formatDuration(e.startedAt, e.finishedAt) }}</td>
              </tr>
            } @empty {
              <tr>
                <td colspan="6" class="muted">No executions match.</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
      @if (hasMore()) {
        <p><button type="button" class="quiet" (click)="showMore()">Show more</button></p>
      }
    } @else if (!error()) {
      <p class="muted" role="status">Loading…</p>
    }
  `,
})
export class ExecutionsPage {
  /** Filters from the address (`?runbook=demo.hello&status=failed`), so a filtered list can be linked to. */
  readonly runbook = input<string>();
  readonly status = input<string>();

  protected readonly statuses = EXECUTION_STATUSES;
  protected readonly executions = signal<ExecutionSummary[] | null>(null);
  protected readonly runbooks = signal<RunbookSummary[]>([]);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly limit = signal(PAGE_SIZE);
  /** A full page came back: there may be more (the API pages by limit only). */
  protected readonly hasMore = computed(() => (this.executions()?.length ?? 0) >= this.limit());
  protected readonly formatTime = formatTime;
  protected readonly formatDuration = formatDuration;
  private readonly api = inject(Api);
  private readonly router = inject(Router);

  constructor() {
    this.api.getJson<RunbookSummary[]>('/runbooks').then(
      (runbooks) => this.runbooks.set(runbooks),
      () => undefined,
    );
    effect(() => {
      this.runbook();
      this.status();
      untracked(() => {
        this.limit.set(PAGE_SIZE);
        void this.load();
      });
    });
  }

  protected textOf(event: Event): string {
    return (event.target as HTMLSelectElement).value;
  }

  protected trigger(execution: ExecutionSummary): string {
    return describeTrigger(execution.trigger);
  }

  protected setFilter(name: 'runbook' | 'status', value: string): void {
    void this.router.navigate([], { queryParams: { [name]: value || null }, queryParamsHandling: 'merge' });
  }

  protected showMore(): void {
    this.limit.update((limit) => Math.min(limit + PAGE_SIZE, 1000));
    void this.load();
  }

  protected async load(): Promise<void> {
    const query = new URLSearchParams({ limit: String(this.limit()) });
    if (this.runbook()) query.set('runbook', this.runbook()!);
    if (this.status()) query.set('status', this.status()!);
    try {
      this.executions.set(await this.api.getJson<ExecutionSummary[]>(`/executions?${query}`));
      this.error.set(null);
    } catch (error) {
      this.error.set(asApiError(error));
    }
  }
}
