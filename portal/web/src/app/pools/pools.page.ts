/**
 * Pools: every pool the person may read with its desired and live size, bounds, cooldown and waiting approvals,
 * and a detail panel for the chosen pool: Add nodes / Remove nodes / Scale to (operators, editors, admins, with a
 * reason), the changes waiting for an admin (who approves or rejects them), and the action history with what each
 * verification saw and the provider execution. The API decides every request; the page only previews it.
 */
import { Component, DestroyRef, Injector, afterNextRender, computed, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { Api, ApiError, asApiError, segment } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { formatTime } from '../core/format';
import { Me } from '../core/me';
import { canApprovePools, whyCannotScale } from '../core/permissions';
import {
  PoolAction,
  PoolView,
  ScaleMode,
  actionStatusClass,
  countLabel,
  describeActionStatus,
  describeChange,
  describeCooldown,
  describeDecision,
  describeRequester,
  describeScaleOutcome,
  describeSize,
  describeVerification,
  formatBounds,
  isMoving,
  pendingCount,
  previewScale,
  scaleFormErrors,
  scaleRequestBody,
} from './pools';

/** While an action of the chosen pool runs or settles, the page looks again this often. */
const MOVING_POLL_MS = 2000;

const FORM_TITLES: Record<ScaleMode, string> = { add: 'Add nodes', remove: 'Remove nodes', to: 'Scale to a size' };

@Component({
  selector: 'baton-pools-page',
  imports: [ErrorNotice, RouterLink],
  template: `
    <div class="page-head">
      <h1>Pools</h1>
      <button type="button" class="small quiet" (click)="refresh()">Refresh</button>
    </div>
    <p class="hint">Nodes Baton grows and shrinks between bounds by running provider runbooks. See docs/pools.md.</p>
    <baton-error-notice [error]="error()" />

    <section aria-labelledby="pools-heading">
      <h2 id="pools-heading" class="visually-hidden">All pools</h2>
      <div class="table-wrap">
        <table aria-labelledby="pools-heading">
          <thead>
            <tr>
              <th scope="col">Pool</th>
              <th scope="col">Desired</th>
              <th scope="col">Actual</th>
              <th scope="col">Bounds</th>
              <th scope="col">Cooldown</th>
              <th scope="col">Providers</th>
              <th scope="col">Waiting for approval</th>
              <th scope="col"><span class="muted">Details</span></th>
            </tr>
          </thead>
          <tbody>
            @for (pool of pools(); track pool.id) {
              <tr [class.selected]="pool.id === selectedId()">
                <td>
                  <span class="mono">{{ pool.id }}</span>
                  @if (pool.title) {
                    <div class="small muted">{{ pool.title }}</div>
                  }
                </td>
                <td>{{ pool.desired ?? '—' }}</td>
                <td>{{ pool.actual }}</td>
                <td>{{ bounds(pool) }}</td>
                <td class="small">{{ cooldown(pool) }}</td>
                <td class="small">
                  <a class="mono" [routerLink]="['/runbooks', pool.scaleOut.runbook]">{{ pool.scaleOut.runbook }}</a>
                  @if (pool.scaleIn.runbook !== pool.scaleOut.runbook) {
                    <br /><a class="mono" [routerLink]="['/runbooks', pool.scaleIn.runbook]">{{ pool.scaleIn.runbook }}</a>
                  }
                </td>
                <td>
                  @if (pendingOf(pool.id); as count) {
                    <span class="status pending">{{ count }}</span>
                  } @else {
                    <span class="muted">0</span>
                  }
                </td>
                <td>
                  <button
                    type="button"
                    class="small quiet"
                    (click)="select(pool.id)"
                    [attr.aria-pressed]="pool.id === selectedId()"
                    [attr.aria-label]="'Show details of pool ' + pool.id"
                  >
                    Details
                  </button>
                </td>
              </tr>
            } @empty {
              <tr>
                <td colspan="8" class="muted">{{ isLoading() ? 'Loading…' : 'No pools you may see.' }}</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
    </section>

    @if (selected(); as pool) {
      <section class="card" aria-labelledby="pool-detail-heading">
        <div class="page-head">
          <h2 id="pool-detail-heading" style="margin-top:0">
            Pool <span class="mono">{{ pool.id }}</span>
          </h2>
          <div class="row">
            @for (mode of modes; track mode) {
              <button
                type="button"
                class="small"
                [class.quiet]="formMode() !== mode"
                (click)="openForm(mode)"
                [disabled]="scaleRefusal() !== null"
                [attr.aria-expanded]="formMode() === mode"
                [attr.aria-controls]="formMode() === mode ? 'scale-form' : null"
                [attr.aria-describedby]="scaleRefusal() ? 'scale-refusal' : null"
              >
                {{ buttonLabel(mode) }}
              </button>
            }
          </div>
        </div>
        @if (scaleRefusal(); as reason) {
          <p id="scale-refusal" class="hint">{{ reason }}</p>
        }
        @if (pool.description) {
          <p>{{ pool.description }}</p>
        }

        @if (formMode(); as mode) {
          <form id="scale-form" class="card narrow" (submit)="sendScale($event, pool)" aria-labelledby="scale-form-heading" novalidate>
            <h3 id="scale-form-heading" style="margin:0">
              {{ formTitle(mode) }}: <span class="mono">{{ pool.id }}</span>
            </h3>
            <div class="field">
              <label for="scale-count">{{ countLabel(mode) }} (required)</label>
              <input
                id="scale-count"
                type="text"
                inputmode="numeric"
                autocomplete="off"
                required
                [value]="count()"
                (input)="count.set(textOf($event))"
                [attr.aria-invalid]="shownErrors().count ? true : null"
                [attr.aria-describedby]="shownErrors().count ? 'scale-count-error' : null"
              />
              @if (shownErrors().count; as message) {
                <span id="scale-count-error" class="field-error">{{ message }}</span>
              }
            </div>
            <div class="field">
              <label for="scale-reason">Reason (required)</label>
              <input
                id="scale-reason"
                type="text"
                required
                maxlength="500"
                autocomplete="off"
                placeholder="campaign tomorrow"
                [value]="reason()"
                (input)="reason.set(textOf($event))"
                [attr.aria-invalid]="shownErrors().reason ? true : null"
                [attr.aria-describedby]="shownErrors().reason ? 'scale-reason-error' : 'scale-reason-hint'"
              />
              @if (shownErrors().reason; as message) {
                <span id="scale-reason-error" class="field-error">{{ message }}</span>
              } @else {
                <span id="scale-reason-hint" class="hint">Kept with the action and in the audit log.</span>
              }
            </div>
            @if (canApprove() && pool.cooldownUntil) {
              <label class="check">
                <input type="checkbox" [checked]="isForced()" (change)="isForced.set(checkedOf($event))" />
                Force: act during the cooldown
              </label>
            }
            @if (preview(); as preview) {
              <p class="hint" style="margin:0" aria-live="polite">{{ preview }}</p>
            }
            <baton-error-notice [error]="scaleError()" />
            <div class="row">
              <button type="submit" [disabled]="isBusy()">Request change</button>
              <button type="button" class="quiet" (click)="closeForm()">Cancel</button>
            </div>
          </form>
        }

        @if (outcome(); as outcome) {
          <p class="notice ok" role="status">
            {{ outcome.text }}
            @if (outcome.executionId) {
              Provider: <a [routerLink]="['/executions', outcome.executionId]">execution {{ outcome.executionId.slice(0, 8) }}</a>
            }
          </p>
        }

        <dl class="facts">
          <dt>Size</dt>
          <dd>{{ size(pool) }}</dd>
          <dt>Live nodes</dt>
          <dd class="mono small">{{ pool.nodes.length > 0 ? pool.nodes.join(', ') : 'none' }}</dd>
          <dt>Selector</dt>
          <dd class="mono small">{{ labelsText(pool.selector.labels) }}</dd>
          <dt>Bounds</dt>
          <dd>min {{ pool.min }}, max {{ pool.max }}</dd>
          <dt>Operator limit</dt>
          <dd>{{ pool.operatorLimit }} (an operator's larger change waits for an admin's approval)</dd>
          <dt>Cooldown</dt>
          <dd>{{ cooldown(pool) }}</dd>
          <dt>Last action</dt>
          <dd>{{ formatTime(pool.lastActionAt) }}</dd>
          <dt>Settle timeout</dt>
          <dd>{{ pool.settleTimeout }}</dd>
          <dt>Scale out</dt>
          <dd>
            <a class="mono" [routerLink]="['/runbooks', pool.scaleOut.runbook]">{{ pool.scaleOut.runbook }}</a>
            @if (paramsText(pool.scaleOut.params); as params) {
              <span class="mono small muted"> {{ params }}</span>
            }
          </dd>
          <dt>Scale in</dt>
          <dd>
            <a class="mono" [routerLink]="['/runbooks', pool.scaleIn.runbook]">{{ pool.scaleIn.runbook }}</a>
            <span class="small"> removes the {{ pool.scaleIn.pick }} nodes first</span>
            @if (paramsText(pool.scaleIn.params); as params) {
              <span class="mono small muted"> {{ params }}</span>
            }
          </dd>
          <dt>Defined</dt>
          <dd>
            @if (pool.sourceFile) {
              in <span class="mono">{{ pool.sourceFile }}</span>
            } @else {
              through the API
            }
          </dd>
        </dl>

        <h3 id="pending-heading">Waiting for approval</h3>
        <baton-error-notice [error]="decisionError()" />
        @if (pending().length > 0) {
          @if (!canApprove()) {
            <p class="hint">Only admins approve or reject a change larger than the operator limit.</p>
          }
          <div class="table-wrap">
            <table aria-labelledby="pending-heading">
              <thead>
                <tr>
                  <th scope="col">Asked</th>
                  <th scope="col">By</th>
                  <th scope="col">Change</th>
                  <th scope="col">Reason</th>
                  @if (canApprove()) {
                    <th scope="col"><span class="muted">Decision</span></th>
                  }
                </tr>
              </thead>
              <tbody>
                @for (action of pending(); track action.id) {
                  <tr>
                    <td>{{ formatTime(action.createdAt) }}</td>
                    <td>{{ requester(action) }}</td>
                    <td>{{ change(action) }}</td>
                    <td>{{ action.reason }}</td>
                    @if (canApprove()) {
                      <td>
                        <div class="row">
                          <button type="button" class="small" (click)="approve(action)" [disabled]="isBusy()">Approve</button>
                          <input
                            #rejectReason
                            type="text"
                            maxlength="500"
                            placeholder="why not (optional)"
                            [attr.aria-label]="'Reason to reject ' + change(action)"
                          />
                          <button type="button" class="small danger" (click)="reject(action, rejectReason.value)" [disabled]="isBusy()">
                            Reject
                          </button>
                        </div>
                      </td>
                    }
                  </tr>
                }
              </tbody>
            </table>
          </div>
        } @else {
          <p class="muted">Nothing waits for an admin.</p>
        }

        <h3 id="history-heading">Action history</h3>
        <div class="table-wrap">
          <table aria-labelledby="history-heading">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Requested by</th>
                <th scope="col">Change</th>
                <th scope="col">Reason</th>
                <th scope="col">State</th>
                <th scope="col">Verification</th>
                <th scope="col">Provider</th>
              </tr>
            </thead>
            <tbody>
              @for (action of actions(); track action.id) {
                <tr>
                  <td>{{ formatTime(action.createdAt) }}</td>
                  <td>{{ requester(action) }}</td>
                  <td>
                    {{ change(action) }}
                    @if (action.nodes.length > 0) {
                      <div class="small muted">
                        removing <span class="mono">{{ action.nodes.join(', ') }}</span>
                      </div>
                    }
                  </td>
                  <td>{{ action.reason }}</td>
                  <td>
                    <span class="status" [class]="statusClass(action)">{{ status(action) }}</span>
                    @if (action.isForced) {
                      <span class="tag">forced</span>
                    }
                    @if (decision(action); as decision) {
                      <div class="small muted">{{ decision }}</div>
                    }
                    @if (action.message) {
                      <div class="small">{{ action.message }}</div>
                    }
                  </td>
                  <td class="small">{{ verification(action) ?? '—' }}</td>
                  <td>
                    @if (action.executionId) {
                      <a [routerLink]="['/executions', action.executionId]">execution {{ action.executionId.slice(0, 8) }}</a>
                    } @else {
                      <span class="muted">—</span>
                    }
                  </td>
                </tr>
              } @empty {
                <tr>
                  <td colspan="7" class="muted">No actions yet.</td>
                </tr>
              }
            </tbody>
          </table>
        </div>
      </section>
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
export class PoolsPage {
  private readonly me = inject(Me);
  private readonly api = inject(Api);
  private readonly injector = inject(Injector);
  protected readonly pools = signal<PoolView[]>([]);
  /** Each pool's actions, newest first: the chosen pool's history, and every pool's count of waiting approvals. */
  protected readonly actionsByPool = signal<ReadonlyMap<string, PoolAction[]>>(new Map());
  protected readonly selectedId = signal<string | null>(null);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly decisionError = signal<ApiError | null>(null);
  protected readonly scaleError = signal<ApiError | null>(null);
  protected readonly outcome = signal<{ text: string; executionId: string | null } | null>(null);
  protected readonly isLoading = signal(true);
  protected readonly isBusy = signal(false);

  protected readonly modes: readonly ScaleMode[] = ['add', 'remove', 'to'];
  protected readonly formMode = signal<ScaleMode | null>(null);
  protected readonly count = signal('1');
  protected readonly reason = signal('');
  protected readonly isForced = signal(false);
  protected readonly hasTriedToSend = signal(false);

  protected readonly selected = computed(() => this.pools().find((pool) => pool.id === this.selectedId()) ?? null);
  protected readonly actions = computed(() => this.actionsByPool().get(this.selectedId() ?? '') ?? []);
  protected readonly pending = computed(() => this.actions().filter((action) => action.status === 'pending_approval'));
  protected readonly canApprove = computed(() => {
    const me = this.me.principal();
    return me !== null && canApprovePools(me);
  });
  protected readonly scaleRefusal = computed(() => {
    const me = this.me.principal();
    const pool = this.selected();
    if (!me || !pool) return 'Loading who you are…';
    return whyCannotScale(me, pool.id);
  });
  protected readonly form = computed(() => ({
    mode: this.formMode() ?? 'add',
    count: this.count(),
    reason: this.reason(),
    isForced: this.isForced(),
  }));
  /** Field problems, shown once the person tried to send (an empty form does not start red). */
  protected readonly shownErrors = computed(() => (this.hasTriedToSend() ? scaleFormErrors(this.form()) : {}));
  protected readonly preview = computed(() => {
    const pool = this.selected();
    const body = scaleRequestBody({ ...this.form(), reason: 'preview' });
    if (!pool || !body) return null;
    return previewScale(pool, body, this.canApprove());
  });

  protected readonly formatTime = formatTime;
  protected readonly countLabel = countLabel;
  protected readonly formTitle = (mode: ScaleMode) => FORM_TITLES[mode];
  protected readonly bounds = formatBounds;
  protected readonly cooldown = describeCooldown;
  protected readonly size = describeSize;
  protected readonly requester = (action: PoolAction) => describeRequester(action.requestedBy);
  protected readonly change = describeChange;
  protected readonly status = (action: PoolAction) => describeActionStatus(action.status);
  protected readonly statusClass = (action: PoolAction) => actionStatusClass(action.status);
  protected readonly decision = describeDecision;
  protected readonly verification = describeVerification;

  private pollTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    inject(DestroyRef).onDestroy(() => clearTimeout(this.pollTimer));
    void this.me.load();
    void this.reload();
  }

  protected buttonLabel(mode: ScaleMode): string {
    return mode === 'to' ? 'Scale to' : FORM_TITLES[mode];
  }

  protected pendingOf(poolId: string): number {
    return pendingCount(this.actionsByPool().get(poolId) ?? []);
  }

  protected labelsText(labels: Record<string, string>): string {
    return Object.entries(labels)
      .map(([key, value]) => `${key}=${value}`)
      .join(', ');
  }

  protected paramsText(params: Record<string, unknown> | undefined): string | null {
    return params && Object.keys(params).length > 0 ? JSON.stringify(params) : null;
  }

  protected textOf(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected checkedOf(event: Event): boolean {
    return (event.target as HTMLInputElement).checked;
  }

  protected select(id: string): void {
    if (this.selectedId() === id) return;
    this.selectedId.set(id);
    this.closeForm();
    this.outcome.set(null);
    this.decisionError.set(null);
    this.pollIfMoving();
  }

  protected refresh(): void {
    void this.reload();
  }

  protected openForm(mode: ScaleMode): void {
    if (this.formMode() === mode) return;
    this.formMode.set(mode);
    this.count.set(mode === 'to' ? String(this.selected()?.desired ?? this.selected()?.actual ?? 0) : '1');
    this.isForced.set(false);
    this.hasTriedToSend.set(false);
    this.scaleError.set(null);
    this.outcome.set(null);
    // The form appears below the buttons: move the focus into it, where the person types next.
    afterNextRender(() => document.getElementById('scale-count')?.focus(), { injector: this.injector });
  }

  protected closeForm(): void {
    this.formMode.set(null);
    this.reason.set('');
    this.scaleError.set(null);
    this.hasTriedToSend.set(false);
  }

  protected async sendScale(event: Event, pool: PoolView): Promise<void> {
    event.preventDefault();
    this.hasTriedToSend.set(true);
    const body = scaleRequestBody(this.form());
    if (!body || this.scaleRefusal()) return;
    this.isBusy.set(true);
    this.scaleError.set(null);
    try {
      const action = await this.api.postJson<PoolAction>(`/pools/${segment(pool.id)}/scale`, body);
      this.closeForm();
      this.outcome.set({ text: describeScaleOutcome(action), executionId: action.executionId });
    } catch (error) {
      // 409 (bounds, cooldown, nothing to change), 403, 400: the portal's words, beside the form that caused them.
      this.scaleError.set(asApiError(error));
    } finally {
      this.isBusy.set(false);
    }
    await this.reload();
  }

  protected async approve(action: PoolAction): Promise<void> {
    await this.decide(async () => {
      const approved = await this.api.postJson<PoolAction>(`/pools/${segment(action.poolId)}/actions/${action.id}/approve`, {});
      this.outcome.set({ text: `Approved: ${describeScaleOutcome(approved)}`, executionId: approved.executionId });
    });
  }

  protected async reject(action: PoolAction, reason: string): Promise<void> {
    const body = reason.trim() ? { reason: reason.trim() } : {};
    await this.decide(async () => {
      await this.api.postJson<PoolAction>(`/pools/${segment(action.poolId)}/actions/${action.id}/reject`, body);
      this.outcome.set({
        text: `Rejected ${describeChange(action)} asked by ${describeRequester(action.requestedBy)}.`,
        executionId: null,
      });
    });
  }

  /** Runs an approval or rejection, shows its outcome or the portal's refusal, and reloads. */
  private async decide(decision: () => Promise<void>): Promise<void> {
    this.decisionError.set(null);
    this.outcome.set(null);
    this.isBusy.set(true);
    try {
      await decision();
    } catch (error) {
      this.decisionError.set(asApiError(error));
    } finally {
      this.isBusy.set(false);
    }
    await this.reload();
  }

  /**
   * The pools, then every pool's actions: the list shows each pool's waiting approvals, which the pool view does not
   * carry. Pools are few (a handful per team), so one request per pool is cheap.
   */
  private async reload(): Promise<void> {
    clearTimeout(this.pollTimer);
    try {
      const pools = await this.api.getJson<PoolView[]>('/pools');
      const answers = await Promise.allSettled(pools.map((pool) => this.api.getJson<PoolAction[]>(`/pools/${segment(pool.id)}/actions`)));
      const actionsByPool = new Map<string, PoolAction[]>();
      answers.forEach((answer, i) => {
        if (answer.status === 'fulfilled') actionsByPool.set(pools[i].id, answer.value);
        else this.error.set(asApiError(answer.reason));
      });
      this.pools.set(pools);
      this.actionsByPool.set(actionsByPool);
      if (answers.every((answer) => answer.status === 'fulfilled')) this.error.set(null);
      const selected = this.selectedId();
      if (selected === null || !pools.some((pool) => pool.id === selected)) {
        this.selectedId.set(pools[0]?.id ?? null);
        this.closeForm();
      }
    } catch (error) {
      this.error.set(asApiError(error));
    } finally {
      this.isLoading.set(false);
    }
    this.pollIfMoving();
  }

  /** Running and settling actions end by themselves (and the live count moves with them): look again until they have. */
  private pollIfMoving(): void {
    clearTimeout(this.pollTimer);
    if (this.actions().some(isMoving)) this.pollTimer = setTimeout(() => void this.reload(), MOVING_POLL_MS);
  }
}
