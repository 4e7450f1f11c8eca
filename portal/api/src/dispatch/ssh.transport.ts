/**
 * Agentless nodes over SSH: the portal runs the node's plan itself with the shared executor, its commands going
 * over one SSH connection per node run (reused by every step), and stores the events directly, like `local`.
 * At most BATON_SSH_MAX_CONNECTIONS node runs hold a connection at once; the others wait for a slot while queued,
 * and run nothing if their execution was cancelled meanwhile.
 * A node that cannot be connected to (refused, DNS, time-out, authentication, host key) ends `unreachable`.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { CancelOrder, DispatchOrder } from '@baton/shared';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { MetricsService } from '../core/metrics.service';
import { ExecutionsService } from '../executions/executions.service';
import { SshNodesService } from '../nodes/ssh-nodes.service';
import { SshConnectError, type SshConnection } from '../ssh/connect';
import { Semaphore } from '../ssh/semaphore';
import { SshStepHost } from '../ssh/step-host';
import { PortalRuns } from './portal-runs';
import type { DispatchResult, Transport } from './transport';

@Injectable()
export class SshTransport implements Transport {
  private readonly logger = new Logger(SshTransport.name);
  private readonly runs: PortalRuns;
  private readonly slots: Semaphore;

  constructor(
    private readonly executions: ExecutionsService,
    private readonly sshNodes: SshNodesService,
    private readonly metrics: MetricsService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {
    this.slots = new Semaphore(config.ssh.maxConnections);
    this.runs = new PortalRuns(executions, this.logger);
  }

  isRunning(nodeRunId: string): boolean {
    return this.runs.isRunning(nodeRunId);
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
    // Dropped connections end the steps (they fail with a reason); nothing else needs to listen for it.
    connection.client.on('error', (err) =>
      this.logger.warn({ nodeRunId: order.nodeRunId, node: order.node, err: err.message }, 'SSH connection error'),
    );
    this.runs.start(order, host, () => {
      connection.close();
      this.slots.release();
    });
    return { accepted: true };
  }

  async cancel(order: CancelOrder): Promise<void> {
    this.runs.cancel(order.nodeRunId, order.reason);
  }

  stopAll(): void {
    this.runs.stopAll();
  }
}
