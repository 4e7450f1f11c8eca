/**
 * Reads node events from the JetStream stream with a durable consumer and stores them. A message is acked only
 * after its batch is committed, so a portal restart or a database blip loses nothing; the event's primary key
 * (node run, seq) makes redelivery harmless.
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { NodeEvent, nodeEventSchema } from '@baton/shared';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { MetricsService } from '../core/metrics.service';
import { NatsService } from '../core/nats.service';
import { ExecutionsService, type ReportedEvent } from '../executions/executions.service';
import { AgentTrustService } from '../fleet/agent-trust.service';

const CONSUMER = 'baton-portal';
const RETRY_DELAY_MS = 1000;

@Injectable()
export class EventIngestService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventIngestService.name);
  private messages?: ConsumerMessages;
  private buffer: JsMsg[] = [];
  private processing?: Promise<void>;

  constructor(
    private readonly nats: NatsService,
    private readonly executions: ExecutionsService,
    private readonly trust: AgentTrustService,
    private readonly metrics: MetricsService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.nats.isEnabled) return;
    const jsm = await jetstreamManager(this.nats.connection);
    await jsm.consumers
      .add(this.config.eventStream, {
        durable_name: CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: 30 * 1_000_000_000,
        max_ack_pending: 20_000,
      })
      .catch(async () => jsm.consumers.info(this.config.eventStream, CONSUMER));
    const consumer = await jetstream(this.nats.connection).consumers.get(this.config.eventStream, CONSUMER);
    this.messages = await consumer.consume({ max_messages: 2000 });
    void this.receive(this.messages);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.messages?.close();
    await this.processing;
  }

  private async receive(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      this.buffer.push(msg);
      // Messages that arrive while a batch is being written form the next batch: low latency when idle,
      // few transactions under load.
      this.processing ??= this.processBuffer();
    }
  }

  private async processBuffer(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0);
      await this.store(batch);
    }
    this.processing = undefined;
  }

  private async store(batch: JsMsg[]): Promise<void> {
    const events: ReportedEvent[] = [];
    const stored: JsMsg[] = [];
    const dropped = new Set<JsMsg>();
    try {
      for (const msg of batch) {
        const event = decode(msg);
        // The subject ends with the sending node's name (NATS permissions keep an agent to its own subjects in
        // operator mode); the signature proves the event comes from that node's accepted key on any server.
        const node = msg.subject.split('.').at(-1)!;
        if (!event || !(await this.trust.isSignedBy(node, msg))) {
          this.logger.warn(
            { subject: msg.subject, node },
            event ? 'dropping a node event not signed by the node' : 'dropping malformed node event',
          );
          msg.term();
          dropped.add(msg);
          continue;
        }
        events.push({ event, node });
        stored.push(msg);
      }
      const now = Date.now();
      for (const { event } of events) this.metrics.eventIngestLag.observe(Math.max(0, now - event.at) / 1000);
      await this.executions.applyEvents(events);
      for (const msg of stored) msg.ack();
    } catch (err) {
      this.logger.error({ events: events.length, err: String(err) }, 'could not store node events; will retry');
      for (const msg of batch) if (!dropped.has(msg)) msg.nak(RETRY_DELAY_MS);
    }
  }
}

function decode(msg: JsMsg): NodeEvent | undefined {
  try {
    const parsed = nodeEventSchema.safeParse(msg.json());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
