/**
 * The confirmation a Reject or Revoke asks for: what will happen, the key's fingerprint once more, and an optional
 * reason kept with the decision. Sends nothing itself; the Agents section does.
 */
import { Component, ElementRef, afterNextRender, computed, input, output, signal, viewChild } from '@angular/core';
import { Agent, ConfirmedDecision, DECISION_WORDS } from './agents';

@Component({
  selector: 'baton-agent-decision',
  template: `
    <form class="card decision" (submit)="submit($event)" aria-labelledby="agent-decision-heading">
      <h3 id="agent-decision-heading">{{ words().verb }} agent {{ agent().name }}?</h3>
      <p id="agent-decision-consequence">{{ words().consequence }}</p>
      <p class="small">
        Fingerprint <code class="fingerprint">{{ agent().fingerprint }}</code>
      </p>
      <div class="field">
        <label for="agent-decision-reason">Reason (optional)</label>
        <input
          #reasonInput
          id="agent-decision-reason"
          maxlength="500"
          autocomplete="off"
          aria-describedby="agent-decision-reason-hint"
          [value]="reason()"
          (input)="reason.set(textOf($event))"
        />
        <span id="agent-decision-reason-hint" class="hint">Kept with the decision and in the audit log.</span>
      </div>
      <div class="row">
        <button type="submit" class="danger" [disabled]="isBusy()" aria-describedby="agent-decision-consequence">
          {{ words().verb }} {{ agent().name }}
        </button>
        <button type="button" class="quiet" (click)="cancelled.emit()">Cancel</button>
      </div>
    </form>
  `,
  styles: `
    .decision {
      margin: 0.25rem 0;
      gap: 0.5rem;
    }
    .decision h3,
    .decision p {
      margin: 0;
    }
  `,
})
export class AgentDecisionForm {
  readonly agent = input.required<Agent>();
  readonly decision = input.required<ConfirmedDecision>();
  readonly isBusy = input(false);
  /** The reason typed, trimmed; empty when none. */
  readonly confirmed = output<string>();
  readonly cancelled = output<void>();

  protected readonly reason = signal('');
  protected readonly words = computed(() => DECISION_WORDS[this.decision()]);
  private readonly reasonInput = viewChild.required<ElementRef<HTMLInputElement>>('reasonInput');

  constructor() {
    afterNextRender(() => this.reasonInput().nativeElement.focus());
  }

  protected textOf(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected submit(event: Event): void {
    event.preventDefault();
    this.confirmed.emit(this.reason().trim());
  }
}
