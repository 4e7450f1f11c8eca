/** One runbook: its description, a form generated from its parameter specs, and Run (`POST /runbooks/:id/executions`). */
import { Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { Router } from '@angular/router';
import type { ParamSpec } from '@baton/shared';
import { Api, ApiError, asApiError, segment } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { FieldValue, initialValues, paramFields, paramsToSend } from './param-form';
import { RunbookDetail } from './runbook';

@Component({
  selector: 'baton-runbook-page',
  imports: [ErrorNotice],
  template: `
    @if (runbook(); as runbook) {
      <h1>{{ runbook.title }}</h1>
      <p class="muted">{{ runbook.id }}</p>
      @if (runbook.description) {
        <p>{{ runbook.description }}</p>
      }
      <baton-error-notice [error]="error()" />
      <form class="card" (submit)="run($event)" [attr.aria-busy]="isStarting()">
        @for (field of fields(); track field.name) {
          <div class="field">
            @switch (field.spec.type) {
              @case ('boolean') {
                <label class="check">
                  <input
                    type="checkbox"
                    [id]="field.inputId"
                    [attr.aria-describedby]="field.hintId"
                    [checked]="values()[field.name] === true"
                    (change)="setValue(field.name, checkedOf($event))"
                  />
                  {{ field.name }}
                </label>
              }
              @case ('enum') {
                <label [for]="field.inputId">{{ field.name }}</label>
                <select
                  [id]="field.inputId"
                  [attr.aria-describedby]="field.hintId"
                  [required]="field.isRequired"
                  (change)="setValue(field.name, textOf($event))"
                >
                  @if (!field.isRequired) {
                    <option value="" [selected]="values()[field.name] === ''">(none)</option>
                  }
                  @for (option of enumValues(field.spec); track option) {
                    <option [value]="option" [selected]="values()[field.name] === option">{{ option }}</option>
                  }
                </select>
              }
              @default {
                <label [for]="field.inputId">{{ field.name }}</label>
                <input
                  [id]="field.inputId"
                  [attr.aria-describedby]="field.hintId"
                  [type]="field.spec.type === 'string' ? 'text' : 'number'"
                  [attr.step]="field.spec.type === 'integer' ? 1 : field.spec.type === 'number' ? 'any' : null"
                  [attr.min]="minOf(field.spec)"
                  [attr.max]="maxOf(field.spec)"
                  [required]="field.isRequired"
                  [value]="values()[field.name]"
                  (input)="setValue(field.name, textOf($event))"
                />
              }
            }
            @if (field.spec.description) {
              <span class="hint" [attr.id]="field.hintId">{{ field.spec.description }}</span>
            }
          </div>
        } @empty {
          <p class="muted">This runbook takes no parameters.</p>
        }
        <button type="submit" [disabled]="isStarting()">Run</button>
      </form>
    } @else if (error()) {
      <baton-error-notice [error]="error()" />
    } @else {
      <p class="muted" role="status">Loading…</p>
    }
  `,
})
export class RunbookPage {
  /** The runbook id, from the route `runbooks/:id`. */
  readonly id = input.required<string>();

  protected readonly runbook = signal<RunbookDetail | null>(null);
  protected readonly fields = computed(() => paramFields(this.runbook()?.params));
  protected readonly values = signal<Record<string, FieldValue>>({});
  protected readonly isStarting = signal(false);
  protected readonly error = signal<ApiError | null>(null);

  private readonly api = inject(Api);
  private readonly router = inject(Router);

  constructor() {
    effect(() => {
      const id = this.id();
      untracked(() => void this.load(id));
    });
  }

  protected setValue(name: string, value: FieldValue): void {
    this.values.update((values) => ({ ...values, [name]: value }));
  }

  protected textOf(event: Event): string {
    return (event.target as HTMLInputElement | HTMLSelectElement).value;
  }

  protected checkedOf(event: Event): boolean {
    return (event.target as HTMLInputElement).checked;
  }

  protected enumValues(spec: ParamSpec): string[] {
    return spec.type === 'enum' ? spec.values : [];
  }

  protected minOf(spec: ParamSpec): number | null {
    return 'min' in spec ? (spec.min ?? null) : null;
  }

  protected maxOf(spec: ParamSpec): number | null {
    return 'max' in spec ? (spec.max ?? null) : null;
  }

  protected async run(event: Event): Promise<void> {
    event.preventDefault();
    this.isStarting.set(true);
    this.error.set(null);
    try {
      const params = paramsToSend(this.fields(), this.values());
      const execution = await this.api.postJson<{ id: string; status: string }>(`/runbooks/${segment(this.id())}/executions`, { params });
      await this.router.navigate(['/executions', execution.id]);
    } catch (error) {
      this.error.set(asApiError(error));
    } finally {
      this.isStarting.set(false);
    }
  }

  private async load(id: string): Promise<void> {
    this.runbook.set(null);
    this.error.set(null);
    try {
      const runbook = await this.api.getJson<RunbookDetail>(`/runbooks/${segment(id)}`);
      if (id !== this.id()) return; // the route moved on to another runbook meanwhile
      this.runbook.set(runbook);
      this.values.set(initialValues(paramFields(runbook.params)));
    } catch (error) {
      if (id === this.id()) this.error.set(asApiError(error));
    }
  }
}
