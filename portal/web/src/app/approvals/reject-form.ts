/**
 * The confirmation a Reject asks for: what rejecting does, and the comment the API requires (kept with the run, shown
 * to the requester as its reason). Sends nothing itself, and nothing at all without a comment.
 */
import { Component, ElementRef, afterNextRender, computed, input, output, signal, viewChild } from '@angular/core';

@Component({
  selector: 'baton-reject-form',
  template: `
    <form class="card reject" (submit)="submit($event)" aria-labelledby="reject-heading" novalidate>
      <h3 id="reject-heading">Reject the run of {{ runbook() }}?</h3>
      <p id="reject-consequence">It ends rejected and never starts; one rejection is enough.</p>
      <div class="field">
        <label for="reject-comment">Why (required)</label>
        <textarea
          #commentInput
          id="reject-comment"
          rows="2"
          maxlength="1000"
          required
          [attr.aria-invalid]="isMissing() ? true : null"
          [attr.aria-describedby]="isMissing() ? 'reject-comment-hint reject-comment-error' : 'reject-comment-hint'"
          [value]="comment()"
          (input)="comment.set(textOf($event))"
        ></textarea>
        <span id="reject-comment-hint" class="hint">Kept with the run and shown to the requester as the reason.</span>
        @if (isMissing()) {
          <span id="reject-comment-error" class="field-error">Say why you reject it.</span>
        }
      </div>
      <div class="row">
        <button type="submit" class="danger" [disabled]="isBusy()" aria-describedby="reject-consequence">Reject run</button>
        <button type="button" class="quiet" (click)="cancelled.emit()">Cancel</button>
      </div>
    </form>
  `,
  styles: `
    .reject {
      margin: 0.25rem 0;
      gap: 0.5rem;
    }
    .reject h3,
    .reject p {
      margin: 0;
    }
  `,
})
export class RejectForm {
  readonly runbook = input.required<string>();
  readonly isBusy = input(false);
  /** The comment typed, trimmed; never empty. */
  readonly confirmed = output<string>();
  readonly cancelled = output<void>();

  protected readonly comment = signal('');
  protected readonly hasTriedToSend = signal(false);
  protected readonly isMissing = computed(() => this.hasTriedToSend() && this.comment().trim() === '');
  private readonly commentInput = viewChild.required<ElementRef<HTMLTextAreaElement>>('commentInput');

  constructor() {
    afterNextRender(() => this.commentInput().nativeElement.focus());
  }

  protected textOf(event: Event): string {
    return (event.target as HTMLTextAreaElement).value;
  }

  protected submit(event: Event): void {
    event.preventDefault();
    this.hasTriedToSend.set(true);
    const comment = this.comment().trim();
    if (!comment) {
      this.commentInput().nativeElement.focus();
      return;
    }
    this.confirmed.emit(comment);
  }
}
