/**
 * One runbook: its description, a parameter form generated from its specs (checked with the API's own rules as
 * the person types), the nodes it will run on, Run (`POST /runbooks/:id/executions`) and its recent runs. Whether runs
 * wait for approval is said above Run; a run the portal refuses to take (a full queue, 429; the runbook's concurrency
 * limit with onLimit: refuse, 409) is said beside Run, in the API's words.
 */
import { Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import type { ParamSpec } from '@baton/shared';
import { describePolicy } from '../approvals/approval';
import { Api, ApiError, asApiError, segment } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { formatTime } from '../core/format';
import { Me } from '../core/me';
import { whyCannotRun } from '../core/permissions';
import { ExecutionSummary } from '../executions/execution';
import { describeTargets, matchTargets, NodeSummary } from '../nodes/node';
import { FieldValue, fieldErrors, initialValues, paramFields, paramsToSend } from './param-form';
import { RunbookDetail } from './runbook';

@Component({
  selector: 'baton-runbook-page',
  imports: [ErrorNotice, RouterLink],
  template: `
    <p class="small"><a routerLink="/">Catalog</a> / {{ id() }}</p>
    @if (runbook(); as runbook) {
      <h1>{{ runbook.title }}</h1>
      @if (runbook.description) {
        <p>{{ runbook.description }}</p>
      }
      <baton-error-notice [error]="error()" />
      <div class="grid-2">
        <form class="card" (submit)="run($event)" [attr.aria-busy]="isStarting()" aria-labelledby="params-heading" novalidate>
          <h2 id="params-heading" style="margin-top:0">Parameters</h2>
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
                  <label [for]="field.inputId">{{ field.name }}{{ field.isRequired ? ' (required)' : '' }}</label>
                  <select
                    [id]="field.inputId"
                    [attr.aria-describedby]="describedBy(field.hintId, field.errorId, field.name)"
                    [attr.aria-invalid]="shownError(field.name) ? true : null"
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
                  <label [for]="field.inputId">{{ field.name }}{{ field.isRequired ? ' (required)' : '' }}</label>
                  <input
                    [id]="field.inputId"
                    [attr.aria-describedby]="describedBy(field.hintId, field.errorId, field.name)"
                    [attr.aria-invalid]="shownError(field.name) ? true : null"
                    [type]="inputType(field.spec)"
                    [attr.autocomplete]="field.spec.type === 'secret' ? 'off' : null"
                    [attr.inputmode]="field.spec.type === 'integer' ? 'numeric' : field.spec.type === 'number' ? 'decimal' : null"
                    [attr.placeholder]="placeholderOf(field.spec)"
                    [required]="field.isRequired"
                    [value]="values()[field.name]"
                    (input)="setValue(field.name, textOf($event))"
                    (blur)="touch(field.name)"
                  />
                }
              }
              @if (field.spec.description) {
                <span class="hint" [attr.id]="field.hintId">{{ field.spec.description }}</span>
              }
              @if (shownError(field.name); as message) {
                <span class="field-error" [id]="field.errorId">{{ field.name }} {{ message }}</span>
              }
            </div>
          } @empty {
            <p class="muted">This runbook takes no parameters.</p>
          }
          @if (approvalPolicy(); as policy) {
            <p class="hint" id="approval-policy">{{ policy }}</p>
          }
          <div class="row">
            <button type="submit" [disabled]="isStarting() || runRefusal() !== null" [attr.aria-describedby]="runDescribedBy()">Run</button>
            @if (runRefusal(); as reason) {
              <span id="run-refusal" class="hint">{{ reason }}</span>
            } @else if (hasTriedToSend() && errorCount() > 0) {
              <span class="field-error" role="alert">Fix {{ errorCount() }} field{{ errorCount() === 1 ? '' : 's' }} first.</span>
            }
          </div>
          @if (startRefusal(); as refusal) {
            <p class="notice bad" role="alert" id="run-not-started">
              <strong>{{ refusal.title }}</strong> {{ refusal.message }}
            </p>
          }
        </form>
        <div>
          <section class="card" aria-labelledby="targets-heading">
            <h2 id="targets-heading" style="margin-top:0">Runs on</h2>
            <p class="small muted">{{ targetsText() }}</p>
            @if (targetNodes(); as nodes) {
              <ul class="plain">
                @for (node of nodes; track node.name) {
                  <li>
                    <span class="status" [class]="node.status">{{ node.name }}</span>
                    <span class="muted small"> {{ node.executor }} · {{ node.status }}</span>
                  </li>
                } @empty {
                  <li class="field-error">No known node matches these targets right now.</li>
                }
              </ul>
            }
          </section>
          <section class="card" aria-labelledby="recent-heading">
            <h2 id="recent-heading" style="margin-top:0">Recent runs</h2>
            <ul class="plain">
              @for (execution of recentRuns(); track execution.id) {
                <li>
                  <a [routerLink]="['/executions', execution.id]"
                    ><span class="status" [class]="execution.status">{{ execution.status }}</span></a
                  >
                  <span class="small muted"> {{ formatTime(execution.createdAt) }} · {{ execution.actor }}</span>
                </li>
              } @empty {
                <li class="muted small">No runs yet.</li>
              }
            </ul>
            <p class="small"><a routerLink="/executions" [queryParams]="{ runbook: id() }">All runs of this runbook</a></p>
          </section>
        </div>
      </div>
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
  protected readonly nodes = signal<NodeSummary[] | null>(null);
  protected readonly recentRuns = signal<ExecutionSummary[]>([]);
  protected readonly fields = computed(() => paramFields(this.runbook()?.params));
  protected readonly values = signal<Record<string, FieldValue>>({});
  protected readonly errors = computed(() => fieldErrors(this.fields(), this.values()));
  protected readonly errorCount = computed(() => Object.keys(this.errors()).length);
  protected readonly touched = signal<ReadonlySet<string>>(new Set());
  protected readonly hasTriedToSend = signal(false);
  protected readonly isStarting = signal(false);
  protected readonly error = signal<ApiError | null>(null);
  /** The portal would not take the run now (429 queue full, 409 concurrency limit): said beside Run. */
  protected readonly startRefusal = signal<{ title: string; message: string } | null>(null);
  protected readonly approvalPolicy = computed(() => {
    const policy = this.runbook()?.approval;
    return policy ? describePolicy(policy) : null;
  });
  protected readonly runDescribedBy = computed(() => {
    const ids = [this.runRefusal() && 'run-refusal', this.approvalPolicy() && 'approval-policy', this.startRefusal() && 'run-not-started'];
    return ids.filter((id) => id).join(' ') || null;
  });
  protected readonly targetsText = computed(() => describeTargets(this.runbook()?.targets));
  protected readonly targetNodes = computed(() => {
    const nodes = this.nodes();
    return nodes === null ? null : matchTargets(this.runbook()?.targets, nodes);
  });
  protected readonly runRefusal = computed(() => {
    const me = this.me.principal();
    const runbook = this.runbook();
    if (!me || !runbook) return null;
    return whyCannotRun(me, runbook);
  });
  protected readonly formatTime = formatTime;

  private readonly api = inject(Api);
  private readonly me = inject(Me);
  private readonly router = inject(Router);

  constructor() {
    void this.me.load();
    effect(() => {
      const id = this.id();
      untracked(() => void this.load(id));
    });
  }

  /** A field's problem once the person has left it, changed it, or tried to send the form. */
  protected shownError(name: string): string | null {
    const message = this.errors()[name];
    if (!message) return null;
    return this.hasTriedToSend() || this.touched().has(name) ? message : null;
  }

  protected describedBy(hintId: string | null, errorId: string, name: string): string | null {
    const ids = [hintId, this.shownError(name) ? errorId : null].filter((x) => x !== null);
    return ids.length > 0 ? ids.join(' ') : null;
  }

  protected setValue(name: string, value: FieldValue): void {
    this.values.update((values) => ({ ...values, [name]: value }));
    this.touch(name);
  }

  protected touch(name: string): void {
    if (!this.touched().has(name)) this.touched.set(new Set([...this.touched(), name]));
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

  protected inputType(spec: ParamSpec): string {
    // Numbers are typed as text: a number input hides a typo (its value is then ""), the shared validator names it.
    return spec.type === 'secret' ? 'password' : 'text';
  }

  protected placeholderOf(spec: ParamSpec): string | null {
    if (spec.type === 'secret') return spec.secret ? `stored secret ${spec.secret} unless given` : null;
    if (spec.type === 'integer' || spec.type === 'number') {
      const range = [spec.min !== undefined ? `≥ ${spec.min}` : '', spec.max !== undefined ? `≤ ${spec.max}` : ''].filter((x) => x);
      return range.length > 0 ? range.join(', ') : null;
    }
    return null;
  }

  protected async run(event: Event): Promise<void> {
    event.preventDefault();
    this.hasTriedToSend.set(true);
    if (this.errorCount() > 0 || this.runRefusal()) return;
    this.isStarting.set(true);
    this.error.set(null);
    this.startRefusal.set(null);
    try {
      const params = paramsToSend(this.fields(), this.values());
      const execution = await this.api.postJson<{ id: string; status: string }>(`/runbooks/${segment(this.id())}/executions`, { params });
      await this.router.navigate(['/executions', execution.id]);
    } catch (error) {
      const apiError = asApiError(error);
      const refusal = describeStartRefusal(apiError);
      if (refusal) this.startRefusal.set(refusal);
      else this.error.set(apiError);
    } finally {
      this.isStarting.set(false);
    }
  }

  private async load(id: string): Promise<void> {
    this.runbook.set(null);
    this.error.set(null);
    this.startRefusal.set(null);
    this.hasTriedToSend.set(false);
    this.touched.set(new Set());
    try {
      const runbook = await this.api.getJson<RunbookDetail>(`/runbooks/${segment(id)}`);
      if (id !== this.id()) return; // the route moved on to another runbook meanwhile
      this.runbook.set(runbook);
      this.values.set(initialValues(paramFields(runbook.params)));
    } catch (error) {
      if (id === this.id()) this.error.set(asApiError(error));
      return;
    }
    this.api.getJson<NodeSummary[]>('/nodes').then(
      (nodes) => this.nodes.set(nodes),
      () => this.nodes.set(null),
    );
    this.api.getJson<ExecutionSummary[]>(`/executions?runbook=${encodeURIComponent(id)}&limit=10`).then(
      (runs) => this.recentRuns.set(runs),
      () => this.recentRuns.set([]),
    );
  }
}

/** A refusal that says "not now" rather than "wrong": the queue is full (429), or the runbook allows no more runs at once (409). */
function describeStartRefusal(error: ApiError): { title: string; message: string } | null {
  if (error.statusCode === 429) return { title: 'Not started: the queue is full.', message: error.message };
  if (error.statusCode === 409) return { title: 'Not started: too many runs of this runbook at once.', message: error.message };
  return null;
}
