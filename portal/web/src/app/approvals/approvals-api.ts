/** Typed calls for four-eyes approvals: the caller's inbox (`GET /approvals`), and approving or rejecting a run. */
import { Injectable, inject } from '@angular/core';
import { Api, segment } from '../core/api';
import { ApprovalDecision, ApprovalView, PendingApproval } from './approval';

const PATHS: Record<ApprovalDecision, string> = { approved: 'approve', rejected: 'reject' };

@Injectable({ providedIn: 'root' })
export class ApprovalsApi {
  private readonly api = inject(Api);

  /** Runs waiting for approval that the caller may decide now, oldest first. */
  pending(): Promise<PendingApproval[]> {
    return this.api.getJson<PendingApproval[]>('/approvals');
  }

  /**
   * Sends the decision; the approval with every decision so far comes back, or an ApiError: 403 saying why the caller
   * may not decide, 409 when the run no longer waits or they decided already, 400 when a rejection has no comment.
   */
  decide(executionId: string, decision: ApprovalDecision, comment = ''): Promise<ApprovalView> {
    const trimmed = comment.trim();
    return this.api.postJson<ApprovalView>(`/executions/${segment(executionId)}/${PATHS[decision]}`, trimmed ? { comment: trimmed } : {});
  }
}
