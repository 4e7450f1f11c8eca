/**
 * The `local` node: the portal's own host runs steps in-process with the same executor as the agent; its
 * events go straight to the execution record instead of through JetStream.
 */
import { Injectable, Logger } from '@nestjs/common';
import type { CancelOrder, DispatchOrder } from '@baton/shared';
import { ExecutionsService } from '../executions/executions.service';
import { PortalRuns } from './portal-runs';
import type { DispatchResult, Transport } from './transport';

@Injectable()
export class LocalTransport implements Transport {
  private readonly runs: PortalRuns;

  constructor(executions: ExecutionsService) {
    this.runs = new PortalRuns(executions, new Logger(LocalTransport.name));
  }

  isRunning(nodeRunId: string): boolean {
    return this.runs.isRunning(nodeRunId);
  }

  async dispatch(order: DispatchOrder): Promise<DispatchResult> {
    this.runs.start(order);
    return { accepted: true };
  }

  async cancel(order: CancelOrder): Promise<void> {
    this.runs.cancel(order.nodeRunId, order.reason);
  }

  stopAll(): void {
    this.runs.stopAll();
  }
}
