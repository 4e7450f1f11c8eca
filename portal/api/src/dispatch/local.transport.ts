/**
 * The `local` node: the portal's own host runs steps in-process with the same executor as the agent; its
 * events go straight to the execution record instead of through JetStream.
 */
import { Injectable, Logger } from '@nestjs/common';
import type { CancelOrder, DispatchOrder, NodeEvent } from '@baton/shared';
import { NodeRunExecutor } from '@baton/shared/node';
import { ExecutionsService } from '../executions/executions.service';
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

/** Writes events in order, batching those that arrive while a write is in flight. */
class EventWriter {
  private buffer: NodeEvent[] = [];
  private writing?: Promise<void>;

  constructor(private readonly write: (events: NodeEvent[]) => Promise<void>) {}

  push(event: NodeEvent): void {
    this.buffer.push(event);
    this.writing ??= this.flush();
  }

  async drained(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async flush(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0);
      await this.write(batch).catch(async () => {
        // A database blip must not lose events: put them back and try again shortly.
        this.buffer.unshift(...batch);
        await new Promise((r) => setTimeout(r, 500));
      });
    }
    this.writing = undefined;
  }
}
