/**
 * Agents as enrollment records them (`GET /agents`): which node asked to join with which key, and what an admin
 * decided. Pure rules for the Agents section: which decisions a status allows, the order an admin reviews them in,
 * and the words of each decision.
 */

export type AgentStatus = 'pending' | 'accepted' | 'rejected' | 'revoked';

export interface Agent {
  name: string;
  status: AgentStatus;
  /** Of the agent's identity key, as the agent printed it on its node at first start. */
  fingerprint: string;
  labels: Record<string, string>;
  hostname: string | null;
  requestedAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  reason: string | null;
}

export type AgentDecision = 'accept' | 'reject' | 'revoke';

/** The decisions that need a confirmation (with an optional reason) before they are sent. */
export type ConfirmedDecision = Exclude<AgentDecision, 'accept'>;

/** What an admin may decide about an agent in this status; the API answers 409 to anything else. */
export function decisionsFor(status: AgentStatus): AgentDecision[] {
  if (status === 'pending') return ['accept', 'reject'];
  if (status === 'accepted') return ['revoke'];
  return [];
}

const REVIEW_RANK: Record<AgentStatus, number> = { pending: 0, accepted: 1, rejected: 2, revoked: 3 };

/** Pending requests first, the longest waiting on top; then accepted, rejected and revoked agents, each by name. */
export function inReviewOrder(agents: readonly Agent[]): Agent[] {
  return [...agents].sort((a, b) => {
    const byRank = REVIEW_RANK[a.status] - REVIEW_RANK[b.status];
    if (byRank !== 0) return byRank;
    if (a.status === 'pending') return a.requestedAt.localeCompare(b.requestedAt);
    return a.name.localeCompare(b.name);
  });
}

export interface DecisionWords {
  /** The button in the table, and the question the confirmation asks. */
  verb: string;
  /** What happens, said before the admin confirms. */
  consequence: string;
  /** Said once the portal has done it. */
  done: string;
}

export const DECISION_WORDS: Record<AgentDecision, DecisionWords> = {
  accept: {
    verb: 'Accept',
    consequence: 'The agent receives its credentials, connects and can run work.',
    done: 'accepted',
  },
  reject: {
    verb: 'Reject',
    consequence: 'The enrollment request is refused: the agent receives no credentials and cannot connect.',
    done: 'rejected',
  },
  revoke: {
    verb: 'Revoke',
    consequence: 'The agent is disconnected at once, its running node runs end lost, and it can never reconnect with that key.',
    done: 'revoked',
  },
};
