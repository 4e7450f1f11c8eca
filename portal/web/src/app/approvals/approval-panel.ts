/**
 * The approval a run needs, on its execution page: how many approvals, who may decide, who asked, the time left, and
 * every decision with its comment. While the run waits: Approve and Reject for someone whose inbox holds it (or,
 * when the inbox could not be read, for anyone, and the API's refusal says why), otherwise a line saying who may.
 */
import { Component, computed, inject, input, output, signal } from '@angular/core';
import { ApiError, asApiError } from '../core/api';
import { ticking } from '../core/clock';
import { ErrorNotice } from '../core/error-notice';
import { formatTime } from '../core/format';
import { Me } from '../core/me';
import {
  ApprovalDecision,
  ApprovalView,
  approvalProgress,
  describeApprovers,
  describeOutcome,
  formatTimeLeft,
  whyNotDeciding,
} from './approval';
import { ApprovalsApi } from './approvals-api';
import { RejectForm } from './reject-form';

/** Whether the caller may decide: in their inbox, not in it, not known yet, or not knowable (the inbox failed). */
export type DecisionRight = 'may' | 'may-not' | 'checking' | 'unknown';

@Component({
  selector: 'baton-approval-panel',
  imports: [ErrorNotice, RejectForm],
  template: `
    <section class="card" aria-labelledby="approval-heading">
      <h2 id="approval-heading" style="margin-top:0">Approval</h2>
      <dl class="facts">
        <dt>Needs</dt>
        <dd>{{ progressText() }}</dd>
        <dt>Who may decide</dt>
        <dd>{{ approvers() }}</dd>
        <dt>Requested by</dt>
        <dd>{{ approval().requestedBy }}</dd>
        @if (isWaiting()) {
          <dt>Times out</dt>
          <dd>
            {{ formatTime(approval().timeoutAt) }} <span class="muted">({{ timeLeft() }})</span>
          </dd>
        }
      </dl>
      <h3>Decisions</h3>
      <ul class="plain decisions">
        @for (decision of approval().decisions; track decision.user) {
          <li>
            <span class="status" [class]="decision.decision">{{ decision.user }} {{ decision.decision }}</span>
            <span class="small muted"> {{ formatTime(decision.at) }}</span>
            @if (decision.comment) {
              <div class="reason">{{ decision.comment }}</div>
            }
          </li>
        } @empty {
          <li class="muted">No decision yet.</li>
        }
      </ul>
      <baton-error-notice [error]="error()" />
      @if (outcome(); as outcome) {
        <p class="notice ok" role="status">{{ outcome }}</p>
      }
      @if (isWaiting()) {
        @switch (mayDecide()) {
          @case ('may-not') {
            <p class="hint" id="approval-why-not">{{ whyNot() }}</p>
          }
          @case ('checking') {
            <p class="muted small" role="status">Checking whether you may decide…</p>
          }
          @default {
            <div class="row">
              <button type="button" [disabled]="isBusy()" (click)="decide('approved', '')">Approve</button>
              <button type="button" class="danger" [disabled]="isBusy()" (click)="isRejecting.set(true)">Reject</button>
            </div>
            @if (isRejecting()) {
              <baton-reject-form
                [runbook]="runbook()"
                [isBusy]="isBusy()"
                (confirmed)="decide('rejected', $event)"
                (cancelled)="isRejecting.set(false)"
              />
            }
          }
        }
      }
    </section>
  `,
  styles: `
    .decisions {
      display: grid;
      gap: 0.35rem;
      margin-bottom: 0.75rem;
    }
    .reason {
      margin-left: 1.2em;
    }
  `,
})
export class ApprovalPanel {
  readonly executionId = input.required<string>();
  readonly runbook = input.required<string>();
  readonly status = input.required<string>();
  readonly approval = input.required<ApprovalView>();
  readonly mayDecide = input<DecisionRight>('checking');
  /** The portal answered a decision (accepted it, or refused because the run changed): the page reads the run again. */
  readonly decided = output<void>();

  protected readonly isWaiting = computed(() => this.status() === 'waiting');
  protected readonly progressText = computed(() => {
    const progress = approvalProgress(this.approval());
    return `${progress.required} approval${progress.required === 1 ? '' : 's'}, ${progress.given} given`;
  });
  protected readonly approvers = computed(() => describeApprovers(this.approval().approvers));
  protected readonly now = ticking(15_000);
  protected readonly timeLeft = computed(() => formatTimeLeft(this.approval().timeoutAt, this.now()));
  protected readonly whyNot = computed(() => whyNotDeciding(this.me.principal()?.username ?? null, this.approval()));
  protected readonly error = signal<ApiError | null>(null);
  protected readonly outcome = signal<string | null>(null);
  protected readonly isBusy = signal(false);
  protected readonly isRejecting = signal(false);
  protected readonly formatTime = formatTime;

  private readonly me = inject(Me);
  private readonly approvalsApi = inject(ApprovalsApi);

  protected async decide(decision: ApprovalDecision, comment: string): Promise<void> {
    this.error.set(null);
    this.outcome.set(null);
    this.isBusy.set(true);
    try {
      const approval = await this.approvalsApi.decide(this.executionId(), decision, comment);
      this.isRejecting.set(false);
      this.outcome.set(describeOutcome(this.runbook(), decision, approval));
    } catch (error) {
      this.error.set(asApiError(error));
    } finally {
      this.isBusy.set(false);
    }
    this.decided.emit();
  }
}
