/**
 * The `local` node: the portal's own host runs steps in-process with the same executor as the agent; its
 * events go straight to the execution record instead of through JetStream.
 */
import { Injectable, Logger } from '@nestjs/common';
import type { CancelOrder, DispatchOrder } from '@baton/shared';
import { NodeRunExecutor } from '@baton/shared/node';
import { ExecutionsService } from '../executions/executions.service';
import { EventWriter } from './event-writer';
import type { DispatchResult, Transport } from './transport';

@Injectable()
export class LocalTransport implements Transport {
  private readonly logger = new Logger(LocalTransport.name);
  private readonly running = new Map<string, NodeRunExecutor>();

  constructor(private readonly executions: ExecutionsService) {}

  isRunning(nodeRunId: string): boolean {
    return this.running.has(nodeRunId);
  }

  async dispatch(order: DispatchOrder): Promise<DispatchResult> {
    const writer = new EventWriter((events) => this.executions.applyEvents(events.map((event) => ({ event, node: order.node }))));
    const executor = new NodeRunExecutor({ nodeRunId: order.nodeRunId, plan: order.plan, emit: (e) => writer.push(e) });
    this.running.set(order.nodeRunId, executor);
    executor
      .run()
      .catch((err) => this.logger.error({ err, nodeRunId: order.nodeRunId }, 'local node run crashed'))
      .finally(async () => {
        await writer.drained();
        this.running.delete(order.nodeRunId);
      });
    return { accepted: true };
  }

  async cancel(order: CancelOrder): Promise<void> {
    this.running.get(order.nodeRunId)?.cancel(order.reason);
  }

  stopAll(): void {
    for (const executor of this.running.values()) executor.cancel('portal shutting down');
  }
}
