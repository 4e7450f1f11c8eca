/** How an order reaches a node: in-process for `local`, over NATS for agents, over SSH (driven by the portal) for agentless nodes. */
import type { CancelOrder, DispatchOrder } from '@baton/shared';

export type DispatchResult = { accepted: true } | { accepted: false; status: 'unreachable' | 'failed' | 'cancelled'; reason: string };

export interface Transport {
  dispatch(order: DispatchOrder): Promise<DispatchResult>;
  cancel(order: CancelOrder): Promise<void>;
}
