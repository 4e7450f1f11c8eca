/**
 * Reads node events from the JetStream stream with a durable consumer and stores them. A message is acked only
 * after its batch is committed, so a portal restart or a database blip loses nothing; the event's primary key
 * (node run, seq) makes redelivery harmless.
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { NodeEvent, nodeEventSchema } from '@baton/shared';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { NatsService } from '../core/nats.service';
import { ExecutionsService, type ReportedEvent } from '../executions/executions.service';

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
    for (const msg of batch) {
      const event = decode(msg);
      if (!event) {
        this.logger.warn({ subject: msg.subject }, 'dropping malformed node event');
        msg.term();
        continue;
      }
      // The subject ends with the sending node's name: NATS permissions keep an agent to its own subjects.
      events.push({ event, node: msg.subject.split('.').at(-1)! });
      stored.push(msg);
    }
    try {
      await this.executions.applyEvents(events);
      for (const msg of stored) msg.ack();
    } catch (err) {
      this.logger.error({ events: events.length, err: String(err) }, 'could not store node events; will retry');
      for (const msg of stored) msg.nak(RETRY_DELAY_MS);
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
