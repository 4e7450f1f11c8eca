/**
 * One execution: its status and log, polled every second (`GET /executions/:id` and `/executions/:id/logs`)
 * until it reaches a terminal state. Live streaming replaces the polling in a later issue.
 */
import { Component, effect, inject, input, signal, untracked } from '@angular/core';
import { Api, ApiError, asApiError, segment } from '../core/api';
import { ErrorNotice } from '../core/error-notice';

const POLL_INTERVAL_MS = 1000;
const TERMINAL_STATUSES = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

interface Execution {
  id: string;
  status: string;
  runbookId?: string;
}

@Component({
  selector: 'baton-execution-page',
  imports: [ErrorNotice],
  template: `
    <h1>Execution {{ id() }}</h1>
    <baton-error-notice [error]="error()" />
    @if (execution(); as execution) {
      <p role="status">
        Status: <span class="status" [class]="execution.status">{{ execution.status }}</span>
        @if (execution.runbookId) {
          <span class="muted"> · {{ execution.runbookId }}</span>
        }
      </p>
      <pre class="log" aria-label="Execution log" tabindex="0">{{ log() || '(no output yet)' }}</pre>
    } @else if (!error()) {
      <p class="muted" role="status">Loading…</p>
    }
  `,
})
export class ExecutionPage {
  /** The execution id, from the route `executions/:id`. */
  readonly id = input.required<string>();

  protected readonly execution = signal<Execution | null>(null);
  protected readonly log = signal('');
  protected readonly error = signal<ApiError | null>(null);

  private readonly api = inject(Api);

  constructor() {
    effect((onCleanup) => {
      const id = this.id();
      let isStopped = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const poll = async (): Promise<void> => {
        const isTerminal = await this.refresh(id);
        if (!isStopped && !isTerminal) timer = setTimeout(poll, POLL_INTERVAL_MS);
      };
      untracked(() => {
        this.execution.set(null);
        this.log.set('');
        this.error.set(null);
        void poll();
      });
      onCleanup(() => {
        isStopped = true;
        clearTimeout(timer);
      });
    });
  }

  /** Fetches status, then log (so the final log is read after the terminal status). Returns whether polling should stop. */
  private async refresh(id: string): Promise<boolean> {
    try {
      const execution = await this.api.getJson<Execution>(`/executions/${segment(id)}`);
      const log = await this.api.getText(`/executions/${segment(id)}/logs`);
      if (id !== this.id()) return true; // the route moved on to another execution meanwhile
      this.execution.set(execution);
      this.log.set(log);
      this.error.set(null);
      return TERMINAL_STATUSES.has(execution.status);
    } catch (error) {
      if (id !== this.id()) return true;
      const apiError = asApiError(error);
      this.error.set(apiError);
      // A 4xx (not found, not allowed, signed out) will not change by asking again; a dropped connection or 5xx may.
      return apiError.statusCode >= 400 && apiError.statusCode < 500;
    }
  }
}
