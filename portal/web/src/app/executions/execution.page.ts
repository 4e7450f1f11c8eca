/**
 * One execution: status, trigger and actor, parameters, each node's step graph with step states (polled while it
 * runs), the live log (server-sent events), Cancel for those allowed, and Run again / Retry failed nodes once it
 * ended (disabled with the reason for those who may not), linked to the runs it repeats and that repeat it. A run
 * that needed approval shows the approval panel, with Approve and Reject while it waits for someone who may decide.
 */
import { Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { KeyValuePipe } from '@angular/common';
import { Router, RouterLink } from '@angular/router';
import type { Step } from '@baton/shared';
import { ApprovalPanel, DecisionRight } from '../approvals/approval-panel';
import { ApprovalsInbox } from '../approvals/approvals-inbox';
import { Api, ApiError, asApiError, segment } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { formatDuration, formatTime, isTerminal } from '../core/format';
import { Me } from '../core/me';
import { canCancel } from '../core/permissions';
import { RunbookDetail } from '../runbooks/runbook';
import { ExecutionDetail, NodeRunView, StepRunView, describeStatus, describeTrigger } from './execution';
import { LogView } from './log/log-view';
import { paramsToGiveAgain, rerunChoices } from './rerun';
import { stepLevels } from './step-graph';

const POLL_INTERVAL_MS = 1500;

@Component({
  selector: 'baton-execution-page',
  imports: [ApprovalPanel, ErrorNotice, RouterLink, LogView, KeyValuePipe],
  template: `
    <p class="small">
      <a routerLink="/executions">Executions</a> / <span class="mono">{{ id() }}</span>
    </p>
    <baton-error-notice [error]="error()" />
    @if (execution(); as execution) {
      <div class="page-head">
        <h1>
          <a [routerLink]="['/runbooks', execution.runbook]">{{ runbookTitle() ?? execution.runbook }}</a>
          <span class="status" [class]="execution.status" role="status" style="margin-left:0.75rem">{{ describeStatus(execution) }}</span>
        </h1>
        <div class="row">
          @if (rerun().runAgain.isShown) {
            <button
              type="button"
              (click)="runAgain(false)"
              [disabled]="isRerunning() || rerun().runAgain.whyDisabled !== null"
              [attr.title]="rerun().runAgain.whyDisabled"
              aria-describedby="rerun-why"
            >
              Run again
            </button>
          }
          @if (rerun().retryFailedNodes.isShown) {
            <button
              type="button"
              class="quiet"
              (click)="runAgain(true)"
              [disabled]="isRerunning() || rerun().retryFailedNodes.whyDisabled !== null"
              [attr.title]="rerun().retryFailedNodes.whyDisabled"
              aria-describedby="rerun-why"
            >
              Retry failed nodes
            </button>
          }
          @if (mayCancel()) {
            <button type="button" class="danger" (click)="cancel()" [disabled]="isCancelling()">Cancel</button>
          }
        </div>
      </div>
      @if (rerun().runAgain.isShown && rerun().runAgain.whyDisabled; as why) {
        <p id="rerun-why" class="hint">{{ why }}</p>
      }
      @if (secretsToGive().length > 0) {
        <form class="card" (submit)="runAgainWithSecrets($event)" aria-labelledby="secrets-again-heading">
          <h2 id="secrets-again-heading" style="margin-top:0">Give the secret parameters again</h2>
          <p class="hint">Secret values are never stored, so running again needs them once more.</p>
          <div class="filters">
            @for (name of secretsToGive(); track name) {
              <div class="field">
                <label [for]="'again-' + name">{{ name }}</label>
                <input [id]="'again-' + name" [name]="name" type="password" autocomplete="off" required />
              </div>
            }
          </div>
          <div class="row">
            <button type="submit" [disabled]="isRerunning()">{{ isRetryingFailedNodes() ? 'Retry failed nodes' : 'Run again' }}</button>
            <button type="button" class="quiet" (click)="secretsToGive.set([])">Never mind</button>
          </div>
        </form>
      }
      @if (execution.reason) {
        <p class="notice" [class.bad]="execution.status !== 'succeeded'">{{ execution.reason }}</p>
      }
      @if (execution.approval; as approval) {
        <baton-approval-panel
          [executionId]="execution.id"
          [runbook]="execution.runbook"
          [status]="execution.status"
          [approval]="approval"
          [mayDecide]="mayDecide()"
          (decided)="afterDecision()"
        />
      }
      <div class="grid-2">
        <section class="card" aria-labelledby="run-facts">
          <h2 id="run-facts" style="margin-top:0">Run</h2>
          <dl class="facts">
            <dt>Runbook</dt>
            <dd class="mono">
              {{ execution.runbook }} <span class="muted">@{{ execution.runbookVersion.slice(0, 12) }}</span>
            </dd>
            <dt>Trigger</dt>
            <dd>{{ trigger() }}</dd>
            <dt>Actor</dt>
            <dd>{{ execution.actor }}</dd>
            <dt>Created</dt>
            <dd>{{ formatTime(execution.createdAt) }}</dd>
            <dt>Started</dt>
            <dd>{{ formatTime(execution.startedAt) }}</dd>
            <dt>Finished</dt>
            <dd>{{ formatTime(execution.finishedAt) }}</dd>
            <dt>Duration</dt>
            <dd>{{ formatDuration(execution.startedAt, execution.finishedAt) }}</dd>
            @if (execution.rerunOf) {
              <dt>Runs again</dt>
              <dd>
                <a [routerLink]="['/executions', execution.rerunOf]" class="mono">{{ execution.rerunOf.slice(0, 8) }}</a>
              </dd>
            }
            @if (execution.reruns?.length) {
              <dt>Run again as</dt>
              <dd>
                @for (rerunId of execution.reruns; track rerunId; let last = $last) {
                  <a [routerLink]="['/executions', rerunId]" class="mono">{{ rerunId.slice(0, 8) }}</a>{{ last ? '' : ', ' }}
                }
              </dd>
            }
          </dl>
        </section>
        <section class="card" aria-labelledby="run-params">
          <h2 id="run-params" style="margin-top:0">Parameters</h2>
          <dl class="facts">
            @for (param of execution.params | keyvalue; track param.key) {
              <dt>{{ param.key }}</dt>
              <dd class="mono">{{ param.value }}</dd>
            } @empty {
              <dd class="muted">none</dd>
            }
          </dl>
        </section>
      </div>
      <section aria-labelledby="nodes-heading">
        <h2 id="nodes-heading">Nodes and steps</h2>
        @for (run of execution.nodes; track run.node) {
          <div class="card">
            <div class="row">
              <strong>{{ run.node }}</strong>
              <span class="status" [class]="run.status">{{ run.status }}</span>
              <span class="small muted">{{ run.executor }} · {{ formatDuration(run.startedAt, run.finishedAt) }}</span>
              @if (run.reason) {
                <span class="small">— {{ run.reason }}</span>
              }
            </div>
            <div class="dag" role="list" [attr.aria-label]="'Steps on ' + run.node">
              @for (level of levels(); track $index; let last = $last) {
                <div class="dag-level">
                  @for (step of level; track step.id) {
                    @let state = stepState(run, step.id);
                    <div class="step" [class]="state?.status ?? 'pending'" role="listitem">
                      <div>
                        <strong>{{ step.name ?? step.id }}</strong>
                      </div>
                      <div class="small">
                        <span class="status" [class]="state?.status ?? 'pending'">{{ state?.status ?? 'pending' }}</span>
                        @if (state && state.exitCode !== null) {
                          <span class="muted"> exit {{ state.exitCode }}</span>
                        }
                        @if (state && state.attempts > 1) {
                          <span class="muted"> · attempt {{ state.attempts }}</span>
                        }
                      </div>
                      @if (state?.error) {
                        <div class="small field-error">{{ state!.error }}</div>
                      }
                    </div>
                  }
                </div>
                @if (!last) {
                  <span class="dag-arrow" aria-hidden="true">→</span>
                }
              }
            </div>
          </div>
        } @empty {
          <p class="muted">No node has been picked yet.</p>
        }
      </section>
      <section aria-labelledby="log-heading">
        <h2 id="log-heading">Log</h2>
        <baton-log-view [executionId]="id()" [nodes]="nodeNames()" (ended)="refresh(id())" />
      </section>
    } @else if (!error()) {
      <p class="muted" role="status">Loading…</p>
    }
  `,
})
export class ExecutionPage {
  /** The execution id, from the route `executions/:id`. */
  readonly id = input.required<string>();

  protected readonly execution = signal<ExecutionDetail | null>(null);
  protected readonly runbook = signal<RunbookDetail | null>(null);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly isCancelling = signal(false);
  protected readonly runbookTitle = computed(() => this.runbook()?.title ?? null);
  protected readonly trigger = computed(() => describeTrigger(this.execution()?.trigger));
  protected readonly nodeNames = computed(() => (this.execution()?.nodes ?? []).map((n) => n.node));
  /** The runbook's steps in DAG columns; without the runbook, the steps each node reported. */
  protected readonly levels = computed<Pick<Step, 'id' | 'name' | 'needs'>[][]>(() => {
    const steps = this.runbook()?.steps ?? uniqueSteps(this.execution()?.nodes ?? []);
    return stepLevels(steps);
  });
  protected readonly mayCancel = computed(() => {
    const me = this.me.principal();
    const execution = this.execution();
    return me !== null && execution !== null && !isTerminal(execution.status) && canCancel(me, execution);
  });
  protected readonly rerun = computed(() => {
    const execution = this.execution();
    if (!execution) return { runAgain: { isShown: false, whyDisabled: null }, retryFailedNodes: { isShown: false, whyDisabled: null } };
    return rerunChoices(this.me.principal(), execution, this.runbook());
  });
  protected readonly isRerunning = signal(false);
  /** Secret parameters a refused rerun asked for, and which rerun it was. */
  protected readonly secretsToGive = signal<string[]>([]);
  protected readonly isRetryingFailedNodes = signal(false);
  /** Whether the caller may decide this waiting run: whether their approvals inbox, read since the page opened, holds it. */
  protected readonly mayDecide = computed<DecisionRight>(() => {
    if (this.inboxReadFor() !== this.id()) return 'checking';
    const inbox = this.inbox.items();
    if (inbox === null) return 'unknown';
    return inbox.some((item) => item.id === this.id()) ? 'may' : 'may-not';
  });
  protected readonly formatTime = formatTime;
  protected readonly formatDuration = formatDuration;
  protected readonly describeStatus = describeStatus;

  private readonly api = inject(Api);
  private readonly me = inject(Me);
  private readonly router = inject(Router);
  private readonly inbox = inject(ApprovalsInbox);
  /** The execution the inbox was last read for. */
  private readonly inboxReadFor = signal<string | null>(null);

  constructor() {
    void this.me.load();
    effect((onCleanup) => {
      const id = this.id();
      let isStopped = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const poll = async (): Promise<void> => {
        const shouldStop = await this.refresh(id);
        if (!isStopped && !shouldStop) timer = setTimeout(poll, POLL_INTERVAL_MS);
      };
      untracked(() => {
        this.execution.set(null);
        this.runbook.set(null);
        this.error.set(null);
        void poll();
      });
      onCleanup(() => {
        isStopped = true;
        clearTimeout(timer);
      });
    });
  }

  protected stepState(run: NodeRunView, stepId: string): StepRunView | undefined {
    return run.steps.find((s) => s.id === stepId);
  }

  protected async cancel(): Promise<void> {
    this.isCancelling.set(true);
    this.error.set(null);
    try {
      await this.api.postJson(`/executions/${segment(this.id())}/cancel`, {});
      await this.refresh(this.id());
    } catch (error) {
      this.error.set(asApiError(error));
    } finally {
      this.isCancelling.set(false);
    }
  }

  /** Starts the rerun and opens it; a refusal asking for secret parameters opens a form for them. */
  protected async runAgain(onlyFailedNodes: boolean, params?: Record<string, string>): Promise<void> {
    this.isRerunning.set(true);
    this.isRetryingFailedNodes.set(onlyFailedNodes);
    this.error.set(null);
    try {
      const started = await this.api.postJson<{ id: string }>(`/executions/${segment(this.id())}/rerun`, {
        onlyFailedNodes,
        ...(params ? { params } : {}),
      });
      this.secretsToGive.set([]);
      await this.router.navigate(['/executions', started.id]);
    } catch (error) {
      const apiError = asApiError(error);
      const secrets = apiError.statusCode === 409 ? paramsToGiveAgain(apiError.details) : [];
      if (secrets.length > 0) this.secretsToGive.set(secrets);
      else this.error.set(apiError);
    } finally {
      this.isRerunning.set(false);
    }
  }

  protected async runAgainWithSecrets(event: Event): Promise<void> {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const params = Object.fromEntries(this.secretsToGive().map((name) => [name, String(data.get(name) ?? '')]));
    await this.runAgain(this.isRetryingFailedNodes(), params);
  }

  /** A decision was sent from the approval panel: read the run and the inbox (and so the badge) again. */
  protected async afterDecision(): Promise<void> {
    await Promise.all([this.refresh(this.id()), this.inbox.refresh()]);
  }

  /** Reads the execution (and its runbook once). Returns whether polling should stop. */
  protected async refresh(id: string): Promise<boolean> {
    try {
      const execution = await this.api.getJson<ExecutionDetail>(`/executions/${segment(id)}`);
      if (id !== this.id()) return true; // the route moved on meanwhile
      const hasStartedWaiting = execution.status === 'waiting' && this.execution()?.status !== 'waiting';
      this.execution.set(execution);
      if (hasStartedWaiting && execution.approval) void this.readInbox(id);
      this.error.set(null);
      if (!this.runbook()) {
        this.api.getJson<RunbookDetail>(`/runbooks/${segment(execution.runbook)}`).then(
          (runbook) => this.runbook.set(runbook),
          () => undefined, // the runbook may be gone or hidden now; the steps reported by the nodes still show
        );
      }
      return isTerminal(execution.status);
    } catch (error) {
      if (id !== this.id()) return true;
      const apiError = asApiError(error);
      this.error.set(apiError);
      // A 4xx (not found, not allowed, signed out) will not change by asking again; a dropped connection or 5xx may.
      return apiError.statusCode >= 400 && apiError.statusCode < 500;
    }
  }

  private async readInbox(id: string): Promise<void> {
    await this.inbox.refresh();
    if (id === this.id()) this.inboxReadFor.set(id);
  }
}

function uniqueSteps(nodes: NodeRunView[]): { id: string }[] {
  return [...new Set(nodes.flatMap((n) => n.steps.map((s) => s.id)))].map((id) => ({ id }));
}
