/**
 * The approvals inbox: runs waiting for a decision the signed-in person may take now (`GET /approvals`), with the
 * runbook, who asked and when, when it times out, the decisions so far; Approve at once, or Reject with the comment
 * the API requires. A refusal (403 saying why, 409 when someone was quicker) is shown as the API gave it.
 */
import { Component, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { ApiError, asApiError } from '../core/api';
import { ticking } from '../core/clock';
import { ErrorNotice } from '../core/error-notice';
import { formatTime } from '../core/format';
import { ApprovalDecision, PendingApproval, approvalProgress, describeOutcome, describeProgress, formatTimeLeft } from './approval';
import { ApprovalsApi } from './approvals-api';
import { ApprovalsInbox } from './approvals-inbox';
import { RejectForm } from './reject-form';

@Component({
  selector: 'baton-approvals-page',
  imports: [ErrorNotice, RejectForm, RouterLink],
  template: `
    <div class="page-head">
      <h1 id="approvals-heading">Approvals</h1>
      <button type="button" class="quiet" (click)="refresh()">Refresh</button>
    </div>
    <p class="hint">
      Runs that wait for a decision you may take now. A run starts once it has the approvals it needs; one rejection ends it. Open a run to
      see its parameters before you decide.
    </p>
    <baton-error-notice [error]="error() ?? inbox.error()" />
    @if (outcome(); as outcome) {
      <p class="notice ok" role="status">{{ outcome.text }} <a [routerLink]="['/executions', outcome.executionId]">Open the run</a></p>
    }
    @if (inbox.items(); as items) {
      <div class="table-wrap">
        <table aria-labelledby="approvals-heading">
          <thead>
            <tr>
              <th scope="col">Runbook</th>
              <th scope="col">Requested by</th>
              <th scope="col">Requested</th>
              <th scope="col">Times out</th>
              <th scope="col">Decisions</th>
              <th scope="col"><span class="muted">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            @for (item of items; track item.id) {
              <tr [attr.data-execution]="item.id">
                <td>
                  <a
                    [routerLink]="['/executions', item.id]"
                    class="mono"
                    [attr.aria-label]="'Run ' + shortId(item) + ' of ' + item.runbook"
                    >{{ item.runbook }}</a
                  >
                  <div class="small muted mono">{{ shortId(item) }}</div>
                </td>
                <td>{{ item.approval.requestedBy }}</td>
                <td>{{ formatTime(item.createdAt) }}</td>
                <td>
                  {{ formatTime(item.approval.timeoutAt) }}
                  <div class="small muted">{{ formatTimeLeft(item.approval.timeoutAt, now()) }}</div>
                </td>
                <td>
                  <div>{{ progressOf(item) }}</div>
                  <ul class="plain small">
                    @for (decision of item.approval.decisions; track decision.user) {
                      <li>
                        <span class="status" [class]="decision.decision">{{ decision.user }} {{ decision.decision }}</span>
                        @if (decision.comment) {
                          <div class="reason">{{ decision.comment }}</div>
                        }
                      </li>
                    }
                  </ul>
                </td>
                <td>
                  <div class="row">
                    <button
                      type="button"
                      class="small"
                      [disabled]="isBusy()"
                      [attr.aria-label]="'Approve run ' + shortId(item) + ' of ' + item.runbook"
                      (click)="decide(item, 'approved', '')"
                    >
                      Approve
                    </button>
                    <button
                      type="button"
                      class="small danger"
                      [disabled]="isBusy()"
                      [attr.aria-label]="'Reject run ' + shortId(item) + ' of ' + item.runbook"
                      (click)="rejecting.set(item.id)"
                    >
                      Reject
                    </button>
                  </div>
                </td>
              </tr>
              @if (rejecting() === item.id) {
                <tr>
                  <td colspan="6">
                    <baton-reject-form
                      [runbook]="item.runbook"
                      [isBusy]="isBusy()"
                      (confirmed)="decide(item, 'rejected', $event)"
                      (cancelled)="rejecting.set(null)"
                    />
                  </td>
                </tr>
              }
            } @empty {
              <tr>
                <td colspan="6" class="muted">Nothing waits for your decision.</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
    } @else if (!inbox.error()) {
      <p class="muted" role="status">Loading…</p>
    }
  `,
  styles: `
    .reason {
      margin-left: 1.2em;
    }
  `,
})
export class ApprovalsPage {
  protected readonly inbox = inject(ApprovalsInbox);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly outcome = signal<{ text: string; executionId: string } | null>(null);
  protected readonly isBusy = signal(false);
  /** The run whose Reject confirmation is open. */
  protected readonly rejecting = signal<string | null>(null);
  protected readonly now = ticking(15_000);
  protected readonly formatTime = formatTime;
  protected readonly formatTimeLeft = formatTimeLeft;
  private readonly approvalsApi = inject(ApprovalsApi);

  constructor() {
    void this.inbox.refresh();
  }

  protected shortId(item: PendingApproval): string {
    return item.id.slice(0, 8);
  }

  protected progressOf(item: PendingApproval): string {
    return describeProgress(approvalProgress(item.approval));
  }

  protected refresh(): void {
    this.error.set(null);
    this.outcome.set(null);
    void this.inbox.refresh();
  }

  /** Sends the decision and says what it did, or shows the API's refusal; the list is asked for again either way. */
  protected async decide(item: PendingApproval, decision: ApprovalDecision, comment: string): Promise<void> {
    this.error.set(null);
    this.outcome.set(null);
    this.isBusy.set(true);
    try {
      const approval = await this.approvalsApi.decide(item.id, decision, comment);
      this.rejecting.set(null);
      this.outcome.set({ text: describeOutcome(item.runbook, decision, approval), executionId: item.id });
    } catch (error) {
      this.error.set(asApiError(error));
    } finally {
      this.isBusy.set(false);
    }
    await this.inbox.refresh();
  }
}
