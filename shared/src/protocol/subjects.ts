/**
 * NATS subject names of the agent protocol. Every subject starts with a prefix (default `baton`) so that
 * several installations, or several test runs, can share one NATS server without hearing each other.
 */
export const DEFAULT_SUBJECT_PREFIX = 'baton';
export const DEFAULT_EVENT_STREAM = 'BATON_EVENTS';

export interface Subjects {
  hello: string;
  heartbeat(node: string): string;
  heartbeatAll: string;
  dispatch(node: string): string;
  cancel(node: string): string;
  events(executionId: string, node: string): string;
  eventsAll: string;
  /** Inbox prefix of one agent: replies to its requests come here, so its credentials need no `_INBOX.>`. */
  agentInbox(node: string): string;
}

/** Node names become subject tokens, so they may not hold dots, wildcards or spaces. */
export const NODE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export function subjects(prefix = DEFAULT_SUBJECT_PREFIX): Subjects {
  return {
    hello: `${prefix}.agent.hello`,
    heartbeat: (node) => `${prefix}.agent.heartbeat.${node}`,
    heartbeatAll: `${prefix}.agent.heartbeat.*`,
    dispatch: (node) => `${prefix}.node.${node}.dispatch`,
    cancel: (node) => `${prefix}.node.${node}.cancel`,
    events: (executionId, node) => `${prefix}.events.${executionId}.${node}`,
    eventsAll: `${prefix}.events.>`,
    agentInbox: (node) => `_INBOX_${prefix}_${node}`,
  };
}
