/**
 * Alerts: the hooks monitoring posts to (admins create them, the token shown once with the Alertmanager receiver to
 * paste, and delete them), the alert rules with their circuit breakers (admins reset a tripped one), and each hook's
 * recent deliveries with what every alert caused, linking to the executions it started.
 */
import { Component, DestroyRef, computed, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { Api, ApiError, asApiError, segment } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { formatTime } from '../core/format';
import { Me } from '../core/me';
import {
  AlertRuleView,
  CreatedHook,
  DeliveryView,
  HookSummary,
  HookType,
  alertmanagerReceiverSnippet,
  describeBreaker,
  describeOutcome,
  formatMatch,
  genericCurlSnippet,
  hookNameProblem,
  outcomeSubject,
  summarizeDelivery,
} from './alerts';

/** While a delivery waits for the worker, its list is asked again this often. */
const PENDING_POLL_MS = 2000;
const DELIVERIES_SHOWN = 50;

@Component({
  selector: 'baton-alerts-page',
  imports: [ErrorNotice, RouterLink],
  template: `
    <h1>Alerts</h1>
    <baton-error-notice [error]="error()" />
    @if (notice(); as notice) {
      <p class="notice ok" role="status">{{ notice }}</p>
    }

    <section aria-labelledby="hooks-heading">
      <h2 id="hooks-heading">Hooks</h2>
      <p class="hint">Where monitoring posts alerts. See docs/alerts.md for both hook types.</p>
      @if (created(); as hook) {
        <div class="notice ok" role="status" aria-labelledby="new-hook-heading">
          <h3 id="new-hook-heading" style="margin-top:0">Hook {{ hook.name }} created</h3>
          <p>
            <strong>Copy this {{ hook.type === 'alertmanager' ? 'token' : 'signing key' }} now — it is not shown again.</strong>
            Only a hash of it is kept.
          </p>
          <p class="token-once" [attr.aria-label]="'New hook token'">{{ hook.token }}</p>
          <div class="row">
            <button type="button" class="small" (click)="copy(hook.token)">Copy token</button>
          </div>
          @if (hook.type === 'alertmanager') {
            <p>
              Save the token in <code>/etc/alertmanager/baton-token</code> and add this receiver to <code>alertmanager.yml</code> (route the
              alerts to it):
            </p>
          } @else {
            <p>Sign each body with the key as <code>TOKEN</code>, for example with curl:</p>
          }
          <pre class="snippet" tabindex="0" [attr.aria-label]="snippetLabel()">{{ snippet() }}</pre>
          <div class="row">
            <button type="button" class="small quiet" (click)="copy(snippet())">
              Copy {{ hook.type === 'alertmanager' ? 'receiver' : 'example' }}
            </button>
            <button type="button" class="small quiet" (click)="created.set(null)">Done</button>
          </div>
        </div>
      }
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Created</th>
              <th scope="col">Posts to</th>
              <th scope="col"><span class="muted">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            @for (hook of hooks(); track hook.name) {
              <tr [class.selected]="hook.name === selected()">
                <td class="mono">{{ hook.name }}</td>
                <td>{{ hook.type }}</td>
                <td>
                  {{ formatTime(hook.createdAt) }} <span class="muted small">by {{ hook.createdBy }}</span>
                </td>
                <td class="mono small">{{ hook.url }}</td>
                <td class="row">
                  <button
                    type="button"
                    class="small quiet"
                    (click)="showDeliveries(hook.name)"
                    [attr.aria-pressed]="hook.name === selected()"
                    [attr.aria-label]="'Show deliveries of ' + hook.name"
                  >
                    Deliveries
                  </button>
                  @if (me.isAdmin()) {
                    <button
                      type="button"
                      class="small danger"
                      (click)="deleteHook(hook.name)"
                      [attr.aria-label]="'Delete hook ' + hook.name"
                    >
                      Delete
                    </button>
                  }
                </td>
              </tr>
            } @empty {
              <tr>
                <td colspan="5" class="muted">No hooks yet.{{ me.isAdmin() ? ' Create one below.' : '' }}</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
      @if (me.isAdmin()) {
        <form class="card filters" (submit)="createHook($event)" aria-labelledby="create-hook-heading" novalidate>
          <h3 id="create-hook-heading" style="flex-basis:100%;margin:0">New hook</h3>
          <div class="field">
            <label for="hook-name">Hook name</label>
            <input
              id="hook-name"
              name="name"
              required
              maxlength="64"
              autocomplete="off"
              placeholder="alertmanager-prod"
              [value]="newName()"
              (input)="newName.set(textOf($event))"
              [attr.aria-invalid]="nameProblem() !== null"
              aria-describedby="hook-name-problem"
            />
            <span id="hook-name-problem" class="field-error">{{ nameProblem() ?? '' }}</span>
          </div>
          <div class="field">
            <label for="hook-type">Type</label>
            <select id="hook-type" name="type" (change)="newType.set(hookTypeOf($event))">
              <option value="alertmanager">Alertmanager (bearer token)</option>
              <option value="generic">Generic JSON (HMAC signature)</option>
            </select>
          </div>
          @if (newType() === 'generic') {
            <div class="field">
              <label for="hook-alerts-path">Alerts path</label>
              <input id="hook-alerts-path" name="alertsPath" placeholder="$.alerts" aria-describedby="hook-alerts-path-hint" />
              <span id="hook-alerts-path-hint" class="hint">Where the alerts are in the posted JSON; empty: $.alerts</span>
            </div>
          }
          <button type="submit">Create hook</button>
        </form>
      } @else {
        <p class="hint">Only admins create and delete hooks.</p>
      }
    </section>

    <section aria-labelledby="deliveries-heading">
      <div class="page-head">
        <h2 id="deliveries-heading">Recent deliveries{{ selected() ? ' to ' + selected() : '' }}</h2>
        @if (selected()) {
          <button type="button" class="small quiet" (click)="refresh()">Refresh</button>
        }
      </div>
      @if (!selected()) {
        <p class="muted">Choose a hook above to see what it received.</p>
      } @else {
        <div class="table-wrap">
          <table aria-labelledby="deliveries-heading">
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Status</th>
                <th scope="col">What it caused</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              @for (delivery of deliveries(); track delivery.id) {
                <tr>
                  <td>
                    {{ formatTime(delivery.receivedAt) }}
                    <span class="mono small muted">#{{ delivery.id }}</span>
                  </td>
                  <td>
                    <span class="status" [class]="delivery.status">{{ delivery.status }}</span>
                  </td>
                  <td>
                    <span>{{ summarize(delivery) }}</span>
                    @if (delivery.outcomes.length > 0) {
                      <ul class="outcomes small">
                        @for (outcome of delivery.outcomes; track $index) {
                          <li>
                            <span class="mono">{{ subjectOf(outcome) }}</span>: {{ describe(outcome) }}
                            @if (outcome.executionId) {
                              — <a [routerLink]="['/executions', outcome.executionId]">execution {{ outcome.executionId.slice(0, 8) }}</a>
                            }
                          </li>
                        }
                      </ul>
                    }
                  </td>
                  <td class="mono small">{{ delivery.source ?? '—' }}</td>
                </tr>
              } @empty {
                <tr>
                  <td colspan="4" class="muted">Nothing received yet.</td>
                </tr>
              }
            </tbody>
          </table>
        </div>
      }
    </section>

    <section aria-labelledby="rules-heading">
      <h2 id="rules-heading">Alert rules</h2>
      <p class="hint">
        Which alerts start which runbook. One remediation per firing episode; past maxPerHour the circuit breaker opens and starts nothing
        until the hour allows{{ me.isAdmin() ? ' or you reset it' : ' or an admin resets it' }}.
      </p>
      <baton-error-notice [error]="rulesError()" />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Match</th>
              <th scope="col">Runbook</th>
              <th scope="col">Cooldown</th>
              <th scope="col">Max per hour</th>
              <th scope="col">Circuit breaker</th>
              @if (me.isAdmin()) {
                <th scope="col"><span class="muted">Actions</span></th>
              }
            </tr>
          </thead>
          <tbody>
            @for (rule of rules(); track rule.id) {
              <tr>
                <td>
                  <span class="mono">{{ rule.id }}</span>
                  @if (rule.enabled === false) {
                    <span class="tag">disabled</span>
                  }
                  @if (rule.hook) {
                    <span class="small muted"> only from {{ rule.hook }}</span>
                  }
                  @if (rule.sourceFile) {
                    <div class="small muted">from {{ rule.sourceFile }}</div>
                  }
                </td>
                <td class="mono small">{{ match(rule.match) }}</td>
                <td>
                  <a [routerLink]="['/runbooks', rule.runbook]">{{ rule.runbook }}</a>
                </td>
                <td>{{ rule.cooldown }}</td>
                <td>{{ rule.maxPerHour }}</td>
                <td>
                  <span class="status" [class]="rule.breaker.isTripped ? 'breaker-open' : 'breaker-closed'">{{ breaker(rule) }}</span>
                  @if (rule.breaker.isTripped) {
                    <div class="small muted">since {{ formatTime(rule.breaker.trippedAt) }}</div>
                  }
                </td>
                @if (me.isAdmin()) {
                  <td>
                    <button
                      type="button"
                      class="small"
                      [class.quiet]="!rule.breaker.isTripped"
                      (click)="resetBreaker(rule.id)"
                      [attr.aria-label]="'Reset breaker of ' + rule.id"
                    >
                      Reset breaker
                    </button>
                  </td>
                }
              </tr>
            } @empty {
              <tr>
                <td [attr.colspan]="me.isAdmin() ? 7 : 6" class="muted">No alert rules you may read.</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
    </section>
  `,
  styles: `
    pre.snippet {
      margin: 0.5rem 0;
      padding: 0.75rem;
      background: var(--bg);
      border: 1px solid var(--border);
      border-radius: 6px;
      overflow-x: auto;
      font-size: 0.85rem;
    }
    ul.outcomes {
      margin: 0.25rem 0 0;
      padding-left: 1.25rem;
    }
    tr.selected td {
      background: var(--bg);
    }
  `,
})
export class AlertsPage {
  protected readonly me = inject(Me);
  protected readonly hooks = signal<HookSummary[]>([]);
  protected readonly rules = signal<AlertRuleView[]>([]);
  protected readonly deliveries = signal<DeliveryView[]>([]);
  protected readonly selected = signal<string | null>(null);
  protected readonly created = signal<CreatedHook | null>(null);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly rulesError = signal<ApiError | null>(null);
  protected readonly notice = signal<string | null>(null);
  protected readonly newName = signal('');
  protected readonly newType = signal<HookType>('alertmanager');
  /** Shown once the person typed something, so an empty form does not start red. */
  protected readonly nameProblem = computed(() => (this.newName() === '' ? null : hookNameProblem(this.newName())));
  protected readonly snippet = computed(() => {
    const hook = this.created();
    if (!hook) return '';
    return hook.type === 'alertmanager' ? alertmanagerReceiverSnippet(hook, location.origin) : genericCurlSnippet(hook, location.origin);
  });
  protected readonly snippetLabel = computed(() =>
    this.created()?.type === 'alertmanager' ? 'Alertmanager receiver' : 'Signed curl example',
  );

  protected readonly formatTime = formatTime;
  protected readonly describe = describeOutcome;
  protected readonly subjectOf = outcomeSubject;
  protected readonly summarize = summarizeDelivery;
  protected readonly match = formatMatch;
  private readonly api = inject(Api);
  private pollTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    inject(DestroyRef).onDestroy(() => clearTimeout(this.pollTimer));
    void this.me.load();
    void this.reload();
  }

  protected textOf(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected hookTypeOf(event: Event): HookType {
    return (event.target as HTMLSelectElement).value as HookType;
  }

  protected breaker(rule: AlertRuleView): string {
    return describeBreaker(rule.breaker);
  }

  protected async createHook(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get('name') ?? '').trim();
    const problem = hookNameProblem(name);
    if (problem) return this.fail(`Hook name: ${problem}`);
    const body: Record<string, unknown> = { name, type: this.newType() };
    const alertsPath = String(data.get('alertsPath') ?? '').trim();
    if (this.newType() === 'generic' && alertsPath) body['alertsPath'] = alertsPath;
    await this.act(null, async () => {
      const hook = await this.api.postJson<CreatedHook>('/hooks', body);
      this.created.set(hook);
      form.reset();
      this.newName.set('');
      this.newType.set('alertmanager');
      this.selected.set(hook.name);
    });
  }

  protected async deleteHook(name: string): Promise<void> {
    if (!confirm(`Delete hook ${name}? Its token stops working at once and its deliveries are deleted.`)) return;
    await this.act(`Hook ${name} deleted.`, async () => {
      await this.api.delete(`/hooks/${segment(name)}`);
      if (this.selected() === name) this.selected.set(null);
      if (this.created()?.name === name) this.created.set(null);
    });
  }

  protected async resetBreaker(id: string): Promise<void> {
    await this.act(`Circuit breaker of ${id} reset: earlier remediations no longer count.`, () =>
      this.api.postJson(`/alert-rules/${segment(id)}/reset`, {}),
    );
  }

  protected showDeliveries(name: string): void {
    this.selected.set(name);
    this.deliveries.set([]);
    void this.loadDeliveries();
  }

  /** Deliveries, and the rules' breakers they may have moved. */
  protected refresh(): void {
    void this.reload();
  }

  protected async loadDeliveries(): Promise<void> {
    clearTimeout(this.pollTimer);
    const hook = this.selected();
    if (!hook) return;
    try {
      const deliveries = await this.api.getJson<DeliveryView[]>(`/hooks/${segment(hook)}/deliveries?limit=${DELIVERIES_SHOWN}`);
      if (this.selected() !== hook) return;
      this.deliveries.set(deliveries);
      // Processing follows the answer asynchronously: look again until the worker has taken every delivery.
      if (deliveries.some((d) => d.status === 'pending')) this.pollTimer = setTimeout(() => void this.loadDeliveries(), PENDING_POLL_MS);
    } catch (error) {
      this.error.set(asApiError(error));
    }
  }

  protected copy(text: string): void {
    void navigator.clipboard?.writeText(text);
  }

  /** Runs one change, shows its outcome, and reloads the lists. */
  private async act(success: string | null, change: () => Promise<unknown>): Promise<void> {
    this.error.set(null);
    this.notice.set(null);
    try {
      await change();
      this.notice.set(success);
    } catch (error) {
      this.error.set(asApiError(error));
    }
    await this.reload();
  }

  private fail(message: string): void {
    this.error.set(new ApiError(message, 400));
  }

  private async reload(): Promise<void> {
    const [hooks, rules] = await Promise.allSettled([
      this.api.getJson<HookSummary[]>('/hooks'),
      this.api.getJson<AlertRuleView[]>('/alert-rules'),
    ]);
    if (hooks.status === 'fulfilled') {
      this.hooks.set(hooks.value);
      if (this.selected() === null && hooks.value.length > 0) this.selected.set(hooks.value[0].name);
    } else {
      this.error.set(asApiError(hooks.reason));
    }
    if (rules.status === 'fulfilled') {
      this.rules.set(rules.value);
      this.rulesError.set(null);
    } else {
      this.rulesError.set(asApiError(rules.reason));
    }
    await this.loadDeliveries();
  }
}
