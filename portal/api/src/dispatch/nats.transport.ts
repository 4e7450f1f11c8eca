/**
 * Agents over NATS: signed dispatch and cancel orders as requests (the reply is the agent's ack or refusal), the
 * plan sealed to the node's own key; registration (hello) and heartbeats, each taken only when signed by the
 * accepted identity key of the node it names.
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Msg } from '@nats-io/transport-node';
import {
  CancelOrder,
  DispatchOrder,
  dispatchReplySchema,
  helloSchema,
  HelloReply,
  heartbeatSchema,
  SIGNED_REQUEST_MAX_AGE_MS,
  type SealedDispatchOrder,
} from '@baton/shared';
import { sealTo } from '@baton/shared/node';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { MetricsService } from '../core/metrics.service';
import { NatsService } from '../core/nats.service';
import { NodesService } from '../nodes/nodes.service';
import { ExecutionsService } from '../executions/executions.service';
import { AgentTrustService } from '../fleet/agent-trust.service';
import { SigningKeyService } from '../fleet/signing-key.service';
import type { DispatchResult, Transport } from './transport';

@Injectable()
export class NatsTransport implements Transport, OnApplicationBootstrap {
  private readonly logger = new Logger(NatsTransport.name);

  constructor(
    private readonly nats: NatsService,
    private readonly keys: SigningKeyService,
    private readonly trust: AgentTrustService,
    private readonly nodes: NodesService,
    private readonly executions: ExecutionsService,
    private readonly metrics: MetricsService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.nats.isEnabled) return;
    const nc = this.nats.connection;
    // Registration is handled by one replica (queue group); heartbeats are heard by all, each tracks liveness.
    nc.subscribe(this.nats.subjects.hello, {
      queue: 'baton-portal',
      callback: (err, msg) => (err ? this.logger.error({ err }, 'hello subscription failed') : void this.onHello(msg)),
    });
    nc.subscribe(this.nats.subjects.heartbeatAll, {
      callback: (err, msg) => (err ? this.logger.error({ err }, 'heartbeat subscription failed') : void this.onHeartbeat(msg)),
    });
  }

  async dispatch(order: DispatchOrder): Promise<DispatchResult> {
    const started = process.hrtime.bigint();
    const agent = await this.trust.accepted(order.node);
    if (!agent)
      return {
        accepted: false,
        status: 'unreachable',
        reason: `node ${order.node} is not an accepted agent (pending, rejected or revoked)`,
      };
    const { plan, ...rest } = order;
    const sealed: SealedDispatchOrder = { ...rest, sealedPlan: sealTo(agent.boxPublicKey, JSON.stringify(plan)) };
    try {
      const reply = await this.nats.connection.request(
        this.nats.subjects.dispatch(order.node),
        JSON.stringify(this.keys.signer.seal(sealed)),
        {
          timeout: this.config.dispatchTimeoutMs,
        },
      );
      this.metrics.dispatchLatency.observe({ executor: 'agent' }, Number(process.hrtime.bigint() - started) / 1e9);
      const answer = dispatchReplySchema.safeParse(reply.json());
      if (!answer.success) return { accepted: false, status: 'failed', reason: 'agent sent an unreadable reply' };
      if (!answer.data.accepted) return { accepted: false, status: 'failed', reason: `agent refused the order: ${answer.data.reason}` };
      return { accepted: true };
    } catch (err) {
      return { accepted: false, status: 'unreachable', reason: unreachableReason(err, this.config.dispatchTimeoutMs) };
    }
  }

  async cancel(order: CancelOrder): Promise<void> {
    try {
      await this.nats.connection.request(this.nats.subjects.cancel(order.node), JSON.stringify(this.keys.signer.seal(order)), {
        timeout: this.config.dispatchTimeoutMs,
      });
    } catch (err) {
      this.logger.warn({ nodeRunId: order.nodeRunId, node: order.node, err: String(err) }, 'cancel not acknowledged by agent');
    }
  }

  private async onHello(msg: Msg): Promise<void> {
    const respond = (reply: HelloReply) => msg.respond(JSON.stringify(reply));
    const hello = helloSchema.safeParse(safeJson(msg));
    if (!hello.success) return void respond({ ok: false, reason: `malformed hello: ${hello.error.issues[0]?.message}` });
    const node = hello.data.node;
    try {
      const agent = await this.trust.accepted(node);
      if (!agent)
        return void respond({ ok: false, reason: `node ${node} is not an accepted agent: enroll it and have an admin accept it` });
      if (!(await this.trust.isSignedBy(node, msg)))
        return void respond({ ok: false, reason: `hello not signed by the enrolled key of ${node}` });
      if (Math.abs(Date.now() - hello.data.sentAt) > SIGNED_REQUEST_MAX_AGE_MS)
        return void respond({ ok: false, reason: 'stale hello: check the clock' });
      // Labels pinned by the enrollment token win over what the agent says.
      await this.nodes.register({ ...hello.data, labels: { ...hello.data.labels, ...agent.pinnedLabels } });
      await this.forgetRunsOfRestartedAgent(hello.data.node, hello.data.running);
      respond({ ok: true, portalKey: this.keys.publicKey, heartbeatMs: this.config.heartbeatMs });
      this.logger.log({ node: hello.data.node, labels: hello.data.labels }, 'agent registered');
    } catch (err) {
      respond({ ok: false, reason: err instanceof Error ? err.message : String(err) });
    }
  }

  /** An agent that says hello without a run we think it is running has restarted: that run is lost. */
  private async forgetRunsOfRestartedAgent(node: string, running: string[]): Promise<void> {
    const live = (await this.executions.liveNodeRuns()).filter((r) => r.node === node && r.dispatchedAt && !running.includes(r.id));
    for (const run of live) {
      // Only if the run is still as read: it may have finished while the hello was being handled.
      await this.executions.endNodeRun(run.executionId, run.id, 'lost', 'agent restarted during the run', {
        status: run.status,
        isDispatched: true,
        isDriverGone: false,
      });
    }
  }

  private async onHeartbeat(msg: Msg): Promise<void> {
    // The subject says who is beating (NATS permissions let an agent publish only its own); the signature proves it.
    const node = msg.subject.split('.').at(-1)!;
    const beat = heartbeatSchema.safeParse(safeJson(msg));
    if (!beat.success || beat.data.node !== node) return;
    if (Math.abs(Date.now() - beat.data.sentAt) > SIGNED_REQUEST_MAX_AGE_MS) return;
    if (await this.trust.isSignedBy(node, msg).catch(() => false)) this.nodes.heartbeat(node);
  }
}

function unreachableReason(err: unknown, timeoutMs: number): string {
  const text = String(err);
  if (/no responders|503/i.test(text)) return 'agent not connected: no one is listening on its dispatch subject';
  if (/timeout/i.test(text)) return `no acknowledgement from the agent within ${timeoutMs} ms`;
  return `dispatch failed: ${text}`;
}

function safeJson(msg: Msg): unknown {
  try {
    return msg.json();
  } catch {
    return undefined;
  }
}
