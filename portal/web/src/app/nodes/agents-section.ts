/**
 * The Agents section of the Nodes page, for admins (salt-key in the browser): enrollment requests and enrolled agents
 * with the fingerprint to compare with what the agent printed on its node; Accept or Reject a pending one, Revoke an
 * accepted one. Reject and Revoke ask first, with an optional reason.
 */
import { Component, computed, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { ApiError, asApiError } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { formatTime } from '../core/format';
import { AgentDecisionForm } from './agent-decision';
import { Agent, AgentDecision, ConfirmedDecision, DECISION_WORDS, decisionsFor, inReviewOrder } from './agents';
import { AgentsApi } from './agents-api';
import { formatLabels } from './node';

interface OpenDecision {
  name: string;
  decision: ConfirmedDecision;
}

@Component({
  selector: 'baton-agents-section',
  imports: [AgentDecisionForm, ErrorNotice, RouterLink],
  template: `
    <section aria-labelledby="agents-heading">
      <div class="page-head">
        <h2 id="agents-heading">Agents</h2>
        <button type="button" class="quiet small" (click)="refresh()">Refresh agents</button>
      </div>
      <p class="hint">
        Nodes that asked to enroll, and what was decided. Before accepting one, check that its fingerprint is the one the agent printed on
        its node.
      </p>
      <baton-error-notice [error]="error()" />
      @if (notice(); as notice) {
        <p class="notice ok" role="status">{{ notice }}</p>
      }
      @if (agents(); as agents) {
        @if (pendingCount() > 0) {
          <p class="notice" role="status">{{ pendingCount() }} waiting for a decision.</p>
        }
        <div class="table-wrap">
          <table aria-labelledby="agents-heading">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Fingerprint</th>
                <th scope="col">Labels</th>
                <th scope="col">Hostname</th>
                <th scope="col">Requested</th>
                <th scope="col">Decided</th>
                <th scope="col"><span class="muted">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              @for (agent of agents; track agent.name) {
                <tr [attr.data-agent]="agent.name">
                  <td class="mono">{{ agent.name }}</td>
                  <td>
                    <span class="status" [class]="agent.status">{{ agent.status }}</span>
                  </td>
                  <td>
                    <code class="fingerprint">{{ agent.fingerprint }}</code>
                  </td>
                  <td class="mono small">{{ formatLabels(agent.labels) }}</td>
                  <td>{{ agent.hostname ?? '—' }}</td>
                  <td>{{ formatTime(agent.requestedAt) }}</td>
                  <td>
                    @if (agent.decidedAt) {
                      {{ formatTime(agent.decidedAt) }}
                      <span class="small muted">{{ agent.decidedBy ? 'by ' + agent.decidedBy : 'automatically' }}</span>
                      @if (agent.reason) {
                        <div class="small reason">{{ agent.reason }}</div>
                      }
                    } @else {
                      —
                    }
                  </td>
                  <td>
                    <div class="row">
                      @for (decision of decisionsFor(agent.status); track decision) {
                        <button
                          type="button"
                          class="small"
                          [class.danger]="decision !== 'accept'"
                          [disabled]="isBusy()"
                          [attr.aria-label]="words[decision].verb + ' agent ' + agent.name"
                          (click)="choose(agent, decision)"
                        >
                          {{ words[decision].verb }}
                        </button>
                      }
                    </div>
                  </td>
                </tr>
                @if (openDecisionFor(agent); as decision) {
                  <tr>
                    <td colspan="8">
                      <baton-agent-decision
                        [agent]="agent"
                        [decision]="decision"
                        [isBusy]="isBusy()"
                        (confirmed)="decide(agent, decision, $event)"
                        (cancelled)="open.set(null)"
                      />
                    </td>
                  </tr>
                }
              } @empty {
                <tr>
                  <td colspan="8" class="muted">
                    No agent has asked to enroll yet. Create an enrollment token on the <a routerLink="/admin">Admin</a> page and install
                    the agent with it.
                  </td>
                </tr>
              }
            </tbody>
          </table>
        </div>
      } @else if (!error()) {
        <p class="muted" role="status">Loading agents…</p>
      }
    </section>
  `,
  styles: `
    .fingerprint {
      overflow-wrap: anywhere;
    }
  `,
})
export class AgentsSection {
  protected readonly agents = signal<Agent[] | null>(null);
  protected readonly pendingCount = computed(() => (this.agents() ?? []).filter((a) => a.status === 'pending').length);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly notice = signal<string | null>(null);
  protected readonly isBusy = signal(false);
  protected readonly open = signal<OpenDecision | null>(null);
  protected readonly words = DECISION_WORDS;
  protected readonly decisionsFor = decisionsFor;
  protected readonly formatLabels = formatLabels;
  protected readonly formatTime = formatTime;
  private readonly agentsApi = inject(AgentsApi);

  constructor() {
    void this.load();
  }

  protected refresh(): void {
    this.error.set(null);
    this.notice.set(null);
    void this.load();
  }

  protected async load(): Promise<void> {
    try {
      this.agents.set(inReviewOrder(await this.agentsApi.list()));
    } catch (error) {
      this.error.set(asApiError(error));
    }
  }

  /** The confirmation open under this agent's row, while its status still allows that decision. */
  protected openDecisionFor(agent: Agent): ConfirmedDecision | null {
    const open = this.open();
    if (open?.name !== agent.name || !decisionsFor(agent.status).includes(open.decision)) return null;
    return open.decision;
  }

  /** Accept goes at once; Reject and Revoke open their confirmation first. */
  protected choose(agent: Agent, decision: AgentDecision): void {
    this.notice.set(null);
    if (decision === 'accept') {
      void this.decide(agent, decision, '');
      return;
    }
    this.open.set({ name: agent.name, decision });
  }

  /** Sends the decision; shows what the portal did, or its refusal (409 when the status no longer allows it). */
  protected async decide(agent: Agent, decision: AgentDecision, reason: string): Promise<void> {
    this.error.set(null);
    this.notice.set(null);
    this.isBusy.set(true);
    try {
      const updated = await this.agentsApi.decide(agent.name, decision, reason);
      this.open.set(null);
      this.notice.set(`Agent ${updated.name} ${DECISION_WORDS[decision].done}.`);
    } catch (error) {
      this.error.set(asApiError(error));
    } finally {
      this.isBusy.set(false);
    }
    await this.load();
  }
}
