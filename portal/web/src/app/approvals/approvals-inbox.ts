/**
 * The caller's approvals inbox, shared by the Approvals page, the badge in the top bar and the execution page: one
 * list, asked for when a page needs it, on navigation, and every 15 s while the tab is visible, never twice at once
 * and not again within a few seconds of the last answer.
 */
import { Injectable, computed, inject, signal } from '@angular/core';
import { NavigationEnd, Router } from '@angular/router';
import { ApiError, asApiError } from '../core/api';
import { PendingApproval } from './approval';
import { ApprovalsApi } from './approvals-api';

export const INBOX_POLL_MS = 15_000;
/** A navigation or poll within this long of the last answer asks nothing. */
const FRESH_FOR_MS = 5_000;

@Injectable({ providedIn: 'root' })
export class ApprovalsInbox {
  /** The runs the caller may decide now; null before the first answer or after a refusal. */
  readonly items = signal<PendingApproval[] | null>(null);
  readonly count = computed(() => this.items()?.length ?? 0);
  readonly error = signal<ApiError | null>(null);

  private readonly approvalsApi = inject(ApprovalsApi);
  private readonly router = inject(Router);
  private inFlight: Promise<void> | null = null;
  /** Counts requests, so an answer overtaken by a newer request is dropped. */
  private sequence = 0;
  private answeredAt = 0;

  /** Asks now (after a decision, or when a page opens); the answer of an older request still in flight is dropped. */
  refresh(): Promise<void> {
    const sequence = ++this.sequence;
    const request = this.load(sequence).finally(() => {
      if (this.inFlight === request) this.inFlight = null;
    });
    this.inFlight = request;
    return request;
  }

  /** Asks unless a request is in flight or the last answer is recent. */
  refreshIfStale(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (Date.now() - this.answeredAt < FRESH_FOR_MS) return Promise.resolve();
    return this.refresh();
  }

  /** Keeps the list fresh while someone is signed in; the returned function stops it and forgets the list. */
  keepFresh(): () => void {
    void this.refresh();
    const timer = setInterval(() => {
      if (document.visibilityState !== 'hidden') void this.refreshIfStale();
    }, INBOX_POLL_MS);
    const navigations = this.router.events.subscribe((event) => {
      if (event instanceof NavigationEnd) void this.refreshIfStale();
    });
    return () => {
      clearInterval(timer);
      navigations.unsubscribe();
      this.sequence++;
      this.answeredAt = 0;
      this.items.set(null);
      this.error.set(null);
    };
  }

  private async load(sequence: number): Promise<void> {
    try {
      const items = await this.approvalsApi.pending();
      if (sequence !== this.sequence) return;
      this.items.set(items);
      this.error.set(null);
    } catch (error) {
      if (sequence !== this.sequence) return;
      this.items.set(null);
      this.error.set(asApiError(error));
    } finally {
      if (sequence === this.sequence) this.answeredAt = Date.now();
    }
  }
}
