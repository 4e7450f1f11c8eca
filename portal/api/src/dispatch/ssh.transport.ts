/**
 * Agentless nodes over SSH: the portal runs the node's plan itself with the shared executor, its commands going
 * over one SSH connection per node run (reused by every step), and stores the events directly, like `local`.
 * At most BATON_SSH_MAX_CONNECTIONS node runs hold a connection at once; the others wait for a slot while queued,
 * and run nothing if their execution was cancelled meanwhile.
 * A node that cannot be connected to (refused, DNS, time-out, authentication, host key) ends `unreachable`.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { CancelOrder, DispatchOrder } from '@baton/shared';
import { NodeRunExecutor } from '@baton/shared/node';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { MetricsService } from '../core/metrics.service';
import { ExecutionsService } from '../executions/executions.service';
import { SshNodesService } from '../nodes/ssh-nodes.service';
import { SshConnectError, type SshConnection } from '../ssh/connect';
import { Semaphore } from '../ssh/semaphore';
import { SshStepHost } from '../ssh/step-host';
import { EventWriter } from './event-writer';
import type { DispatchResult, Transport } from './transport';

@Injectable()
export class SshTransport implements Transport {
  private readonly logger = new Logger(SshTransport.name);
  private readonly running = new Map<string, NodeRunExecutor>();
  private readonly slots: Semaphore;

  constructor(
    private readonly executions: ExecutionsService,
    private readonly sshNodes: SshNodesService,
    private readonly metrics: MetricsService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {
    this.slots = new Semaphore(config.ssh.maxConnections);
  }

  isRunning(nodeRunId: string): boolean {
    return this.running.has(nodeRunId);
  }

  async dispatch(order: DispatchOrder): Promise<DispatchResult> {
    await this.slots.acquire();
    const started = process.hrtime.bigint();
    let connection: SshConnection;
    try {
      connection = await this.sshNodes.connect(order.node);
    } catch (err) {
      this.slots.release();
      const reason = err instanceof SshConnectError ? err.reason : `could not use the SSH connection: ${(err as Error).message}`;
      return { accepted: false, status: 'unreachable', reason };
    }
    // The wait for a slot can be long, and a cancel meanwhile only ended the queued node run in the database
    // (on whichever replica took it): look before running anything.
    if ((await this.executions.get(order.executionId)).cancelRequestedAt) {
      connection.close();
      this.slots.release();
      return { accepted: false, status: 'cancelled', reason: 'cancelled while waiting for an SSH connection' };
    }
    const host = new SshStepHost(connection.client, this.config.ssh.maxSessions);
    this.metrics.dispatchLatency.observe({ executor: 'ssh' }, Number(process.hrtime.bigint() - started) / 1e9);
    const writer = new EventWriter((events) => this.executions.applyEvents(events.map((event) => ({ event, node: order.node }))));
    const executor = new NodeRunExecutor({ nodeRunId: order.nodeRunId, plan: order.plan, emit: (e) => writer.push(e), host });
    this.running.set(order.nodeRunId, executor);
    // Dropped connections end the steps (they fail with a reason); nothing else needs to listen for it.
    connection.client.on('error', (err) =>
      this.logger.warn({ nodeRunId: order.nodeRunId, node: order.node, err: err.message }, 'SSH connection error'),
    );
    executor
      .run()
      .catch((err) => this.logger.error({ err, nodeRunId: order.nodeRunId, node: order.node }, 'SSH node run crashed'))
      .finally(async () => {
        connection.close();
        this.slots.release();
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
