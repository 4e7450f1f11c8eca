/**
 * The audit log for auditors and admins: filters, cursor paging (`nextCursor`), Export CSV / Export JSONL
 * (fetched with the bearer token and saved as a file), and the hash chain's verification status.
 */
import { Component, inject, signal } from '@angular/core';
import { JsonPipe } from '@angular/common';
import { Api, ApiError, asApiError } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { formatTime, saveFile } from '../core/format';
import { AuditFilters, NO_AUDIT_FILTERS, auditQuery } from './audit-query';

const PAGE_SIZE = 100;

interface AuditEvent {
  seq: number;
  at: string;
  actor: { type: string; name: string };
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  source: string | null;
  hash: string;
}

interface AuditPageBody {
  items: AuditEvent[];
  nextCursor?: string;
}

interface AuditVerification {
  ok: boolean;
  checked: number;
  firstBadSeq?: number;
  reason?: string;
  head?: { seq: number; hash: string };
}

@Component({
  selector: 'baton-audit-page',
  imports: [ErrorNotice, JsonPipe],
  template: `
    <div class="page-head">
      <h1>Audit log</h1>
      <div class="row">
        <button type="button" (click)="export('csv')" [disabled]="exporting() !== null">Export CSV</button>
        <button type="button" (click)="export('jsonl')" [disabled]="exporting() !== null">Export JSONL</button>
      </div>
    </div>
    @if (verification(); as v) {
      <p class="notice" [class.ok]="v.ok" [class.bad]="!v.ok" role="status">
        @if (v.ok) {
          <strong>Chain verified:</strong> all {{ v.checked }} events are intact.
          @if (v.head) {
            <span class="small muted"
              >Head #{{ v.head.seq }} <span class="mono">{{ v.head.hash.slice(0, 16) }}…</span></span
            >
          }
        } @else {
          <strong>Chain broken</strong> at event #{{ v.firstBadSeq }} ({{ v.reason }}); {{ v.checked }} events checked.
        }
      </p>
    } @else {
      <p class="notice small muted" role="status">Verifying the chain…</p>
    }
    <baton-error-notice [error]="error()" />
    <form class="filters" role="search" aria-label="Filter the audit log" (submit)="search($event)">
      <div class="field">
        <label for="audit-actor">Actor</label>
        <input id="audit-actor" [value]="filters().actor" (input)="setFilter('actor', $event)" placeholder="alice" />
      </div>
      <div class="field">
        <label for="audit-action">Action</label>
        <input id="audit-action" [value]="filters().action" (input)="setFilter('action', $event)" placeholder="execution.*" />
      </div>
      <div class="field">
        <label for="audit-target">Target</label>
        <input id="audit-target" [value]="filters().target" (input)="setFilter('target', $event)" placeholder="runbook:demo.hello" />
      </div>
      <div class="field">
        <label for="audit-from">From</label>
        <input id="audit-from" type="datetime-local" [value]="filters().from" (input)="setFilter('from', $event)" />
      </div>
      <div class="field">
        <label for="audit-to">To</label>
        <input id="audit-to" type="datetime-local" [value]="filters().to" (input)="setFilter('to', $event)" />
      </div>
      <button type="submit">Search</button>
      <button type="button" class="quiet" (click)="reset()">Clear filters</button>
    </form>
    @if (events(); as events) {
      <div class="table-wrap">
        <table>
          <caption class="muted small" style="text-align:left;padding:0.5rem 0.75rem">
            {{
              events.length
            }}
            events, newest first
          </caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Details</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            @for (event of events; track event.seq) {
              <tr>
                <td class="mono">{{ event.seq }}</td>
                <td>{{ formatTime(event.at) }}</td>
                <td>
                  {{ event.actor.name }} <span class="muted small">{{ event.actor.type }}</span>
                </td>
                <td class="mono">{{ event.action }}</td>
                <td class="mono">{{ event.target ?? '' }}</td>
                <td class="details mono small" [title]="event.details | json">{{ event.details | json }}</td>
                <td class="small muted">{{ event.source ?? '' }}</td>
              </tr>
            } @empty {
              <tr>
                <td colspan="7" class="muted">No events match.</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
      @if (nextCursor()) {
        <p><button type="button" class="quiet" (click)="loadMore()" [disabled]="isLoading()">Load older events</button></p>
      }
    } @else if (!error()) {
      <p class="muted" role="status">Loading…</p>
    }
  `,
})
export class AuditPage {
  protected readonly filters = signal<AuditFilters>(NO_AUDIT_FILTERS);
  protected readonly events = signal<AuditEvent[] | null>(null);
  protected readonly nextCursor = signal<string | null>(null);
  protected readonly verification = signal<AuditVerification | null>(null);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly isLoading = signal(false);
  protected readonly exporting = signal<'csv' | 'jsonl' | null>(null);
  protected readonly formatTime = formatTime;
  private readonly api = inject(Api);
  /** The filters the shown page was read with: "Load older" and export use these, not half-typed ones. */
  private applied: AuditFilters = NO_AUDIT_FILTERS;

  constructor() {
    void this.load(false);
    this.api.getJson<AuditVerification>('/audit/verify').then(
      (v) => this.verification.set(v),
      (error: unknown) => this.error.set(asApiError(error)),
    );
  }

  protected setFilter(key: keyof AuditFilters, event: Event): void {
    const value = (event.target as HTMLInputElement).value;
    this.filters.update((filters) => ({ ...filters, [key]: value }));
  }

  protected search(event: Event): void {
    event.preventDefault();
    void this.load(false);
  }

  protected reset(): void {
    this.filters.set(NO_AUDIT_FILTERS);
    void this.load(false);
  }

  protected loadMore(): void {
    void this.load(true);
  }

  protected async export(format: 'csv' | 'jsonl'): Promise<void> {
    this.exporting.set(format);
    this.error.set(null);
    try {
      const { blob, filename } = await this.api.getBlob(`/audit/export?${auditQuery(this.applied, { format })}`);
      saveFile(blob, filename ?? `baton-audit.${format}`);
    } catch (error) {
      this.error.set(asApiError(error));
    } finally {
      this.exporting.set(null);
    }
  }

  private async load(isMore: boolean): Promise<void> {
    if (!isMore) this.applied = this.filters();
    const extra: Record<string, string> = { limit: String(PAGE_SIZE) };
    const cursor = this.nextCursor();
    if (isMore && cursor) extra['cursor'] = cursor;
    this.isLoading.set(true);
    try {
      const page = await this.api.getJson<AuditPageBody>(`/audit?${auditQuery(this.applied, extra)}`);
      this.events.set(isMore ? [...(this.events() ?? []), ...page.items] : page.items);
      this.nextCursor.set(page.nextCursor ?? null);
      this.error.set(null);
    } catch (error) {
      this.error.set(asApiError(error));
    } finally {
      this.isLoading.set(false);
    }
  }
}
