/** Typed calls for agent enrollment (`/agents`, admins only): the list, and accept, reject or revoke one. */
import { Injectable, inject } from '@angular/core';
import { Api, segment } from '../core/api';
import { Agent, AgentDecision } from './agents';

@Injectable({ providedIn: 'root' })
export class AgentsApi {
  private readonly api = inject(Api);

  list(): Promise<Agent[]> {
    return this.api.getJson<Agent[]>('/agents');
  }

  /** Sends the decision; the updated agent comes back, or an ApiError (409 when the status does not allow it). */
  decide(name: string, decision: AgentDecision, reason = ''): Promise<Agent> {
    const trimmed = reason.trim();
    return this.api.postJson<Agent>(`/agents/${segment(name)}/${decision}`, trimmed ? { reason: trimmed } : {});
  }
}
