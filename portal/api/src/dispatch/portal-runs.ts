/**
 * Node runs this portal process executes itself (the `local` node, SSH nodes): the shared executor on a given step
 * host, its events stored straight into the execution record rather than through JetStream.
 */
import type { Logger } from '@nestjs/common';
import type { DispatchOrder } from '@baton/shared';
import { NodeRunExecutor, type StepHost } from '@baton/shared/node';
import type { ExecutionsService } from '../executions/executions.service';
import { EventWriter } from './event-writer';

export class PortalRuns {
  private readonly running = new Map<string, NodeRunExecutor>();

  constructor(
    private readonly executions: ExecutionsService,
    private readonly logger: Logger,
  ) {}

  isRunning(nodeRunId: string): boolean {
    return this.running.has(nodeRunId);
  }

  /** Starts the node run on `host` (child processes here when undefined); `release` runs once it has ended. */
  start(order: DispatchOrder, host?: StepHost, release?: () => void): void {
    const writer = new EventWriter((events) => this.executions.applyEvents(events.map((event) => ({ event, node: order.node }))));
    const executor = new NodeRunExecutor({ nodeRunId: order.nodeRunId, plan: order.plan, emit: (e) => writer.push(e), host });
    this.running.set(order.nodeRunId, executor);
    executor
      .run()
      .catch((err) => this.logger.error({ err, nodeRunId: order.nodeRunId, node: order.node }, 'node run crashed'))
      .finally(async () => {
        release?.();
        await writer.drained();
        this.running.delete(order.nodeRunId);
      });
  }

  cancel(nodeRunId: string, reason: string): void {
    this.running.get(nodeRunId)?.cancel(reason);
  }

  stopAll(): void {
    for (const executor of this.running.values()) executor.cancel('portal shutting down');
  }
}
