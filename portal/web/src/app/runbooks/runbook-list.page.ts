/** The runbooks the signed-in person may see (`GET /runbooks`), each linking to its own page. */
import { Component, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { Api, ApiError, asApiError } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { RunbookSummary } from './runbook';

@Component({
  selector: 'baton-runbook-list-page',
  imports: [ErrorNotice, RouterLink],
  template: `
    <h1>Runbooks</h1>
    <baton-error-notice [error]="error()" />
    @if (runbooks(); as runbooks) {
      <ul class="plain">
        @for (runbook of runbooks; track runbook.id) {
          <li class="card">
            <a [routerLink]="['/runbooks', runbook.id]">{{ runbook.title }}</a>
            <span class="muted"> · {{ runbook.id }}</span>
            @if (runbook.description) {
              <p>{{ runbook.description }}</p>
            }
          </li>
        } @empty {
          <li class="muted">No runbooks you may see.</li>
        }
      </ul>
    } @else if (!error()) {
      <p class="muted" role="status">Loading…</p>
    }
  `,
})
export class RunbookListPage {
  protected readonly runbooks = signal<RunbookSummary[] | null>(null);
  protected readonly error = signal<ApiError | null>(null);
  private readonly api = inject(Api);

  constructor() {
    this.api.getJson<RunbookSummary[]>('/runbooks').then(
      (runbooks) => this.runbooks.set(runbooks),
      (error: unknown) => this.error.set(asApiError(error)),
    );
  }
}
