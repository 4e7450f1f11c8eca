/**
 * The node agent: registers with the portal over NATS, heartbeats, accepts signed dispatch orders, runs them
 * with the shared executor and reports events through JetStream. One process normally runs one Agent; the
 * benchmark's swarm runs many in one process.
 */
import { hostname } from 'node:os';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { DEFAULT_SUBJECT_PREFIX, DispatchOrder, DispatchReply, Hello, helloReplySchema, subjects, type Subjects } from '@baton/shared';
import { EnvelopeVerifier, NodeRunExecutor, defaultBaseEnv } from '@baton/shared/node';
import { EventOutbox } from './outbox';
import { createLogger, type AgentLogger } from './log';

export const AGENT_VERSION = '0.1.0';

export interface AgentOptions {
  name: string;
  labels: Record<string, string>;
  natsUrl?: string;
  /** An existing connection (the swarm shares nothing else, but tests may hand one in). */
  connection?: NatsConnection;
  subjectPrefix?: string;
  /** Base64 SPKI of the portal's signing key; when absent the key from the hello reply is trusted and pinned. */
  portalKey?: string;
  spoolFile?: string;
  logger?: AgentLogger;
  /** NATS credentials, when the server requires them. */
  natsUser?: string;
  natsPassword?: string;
  natsToken?: string;
}

const HELLO_TIMEOUT_MS = 3000;
const HELLO_RETRY_MS = 1000;

export class Agent {
  private nc!: NatsConnection;
  private outbox!: EventOutbox;
  private verifier?: EnvelopeVerifier;
  private readonly running = new Map<string, NodeRunExecutor>();
  private readonly subs: Subscription[] = [];
  private heartbeatTimer?: NodeJS.Timeout;
  private readonly subjects: Subjects;
  private readonly log: AgentLogger;
  private readonly baseEnv = defaultBaseEnv();
  private isStopping = false;

  constructor(private readonly options: AgentOptions) {
    this.subjects = subjects(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
    this.log = options.logger ?? createLogger(`agent:${options.name}`);
    if (options.portalKey) this.verifier = new EnvelopeVerifier(options.portalKey);
  }

  get name(): string {
    return this.options.name;
  }

  get runningNodeRuns(): string[] {
    return [...this.running.keys()];
  }

  async start(): Promise<void> {
    this.nc =
      this.options.connection ??
      (await connect({
        servers: this.options.natsUrl ?? 'nats://127.0.0.1:4222',
        name: `baton-agent-${this.options.name}`,
        user: this.options.natsUser,
        pass: this.options.natsPassword,
        token: this.options.natsToken,
        maxReconnectAttempts: -1,
      }));
    this.outbox = new EventOutbox(jetstream(this.nc), this.options.spoolFile, this.log);
    for (const subject of [this.subjects.dispatch(this.name), this.subjects.cancel(this.name)]) {
      const callback = (err: Error | null, msg: Msg) => {
        if (err) return this.log.error({ subject, err: String(err) }, "subscription failed: check this agent's NATS permissions");
        this.onOrder(msg);
      };
      this.subs.push(this.nc.subscribe(subject, { callback }));
    }
    const heartbeatMs = await this.register();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), heartbeatMs);
    this.watchReconnects();
    this.log.info({ node: this.name, labels: this.options.labels }, 'agent registered');
  }

  /** Stops taking work; running steps are cancelled, undelivered events are spooled. */
  async stop(): Promise<void> {
    this.isStopping = true;
    clearInterval(this.heartbeatTimer);
    for (const executor of this.running.values()) executor.cancel('agent stopping');
    for (const sub of this.subs) sub.unsubscribe();
    this.outbox?.stop();
    if (!this.options.connection && this.nc && !this.nc.isClosed()) await this.nc.drain();
  }

  /** Resolves when every event emitted so far is stored in JetStream. */
  flushed(): Promise<void> {
    return this.outbox.drained();
  }

  /** Says hello until the portal answers: the portal may start after its agents. */
  private async register(): Promise<number> {
    const hello: Hello = {
      node: this.name,
      hostname: hostname(),
      labels: this.options.labels,
      version: AGENT_VERSION,
      running: this.runningNodeRuns,
    };
    for (;;) {
      try {
        const msg = await this.nc.request(this.subjects.hello, JSON.stringify(hello), { timeout: HELLO_TIMEOUT_MS });
        const reply = helloReplySchema.parse(msg.json());
        if (!reply.ok) throw new Error(`portal refused registration: ${reply.reason}`);
        if (!this.verifier) {
          this.log.warn({}, 'no BATON_PORTAL_KEY given: trusting the key the portal sent at registration');
          this.verifier = new EnvelopeVerifier(reply.portalKey);
        }
        return reply.heartbeatMs;
      } catch (err) {
        if (this.isStopping) throw err;
        if (String(err).includes('refused registration')) throw err;
        this.log.warn({ err: String(err) }, 'portal not answering hello yet; retrying');
        await new Promise((r) => setTimeout(r, HELLO_RETRY_MS));
      }
    }
  }

  /** After NATS comes back the portal may have restarted: say hello again so it knows what we are running. */
  private watchReconnects(): void {
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === 'reconnect' && !this.isStopping) {
          this.log.info({}, 'reconnected to NATS');
          this.register().catch((err) => this.log.error({ err: String(err) }, 'registration failed'));
        }
      }
    })();
  }

  private heartbeat(): void {
    if (this.nc.isClosed()) return;
    this.nc.publish(
      this.subjects.heartbeat(this.name),
      JSON.stringify({ node: this.name, running: this.runningNodeRuns, sentAt: Date.now() }),
    );
  }

  private onOrder(msg: Msg): void {
    const reply = (answer: DispatchReply): void => {
      msg.respond(JSON.stringify(answer));
    };
    if (!this.verifier) return reply({ accepted: false, reason: 'agent not registered yet' });
    const opened = this.verifier.open(safeJson(msg.data));
    if (!opened.ok) {
      this.log.warn({ reason: opened.reason, subject: msg.subject }, 'order refused');
      return reply({ accepted: false, reason: opened.reason });
    }
    const order = opened.order;
    if (order.node !== this.name) return reply({ accepted: false, reason: `order is for node ${order.node}, not ${this.name}` });
    if (order.type === 'cancel') {
      this.running.get(order.nodeRunId)?.cancel(order.reason);
      return reply({ accepted: true });
    }
    if (this.isStopping) return reply({ accepted: false, reason: 'agent is stopping' });
    if (!this.running.has(order.nodeRunId)) this.startNodeRun(order);
    reply({ accepted: true });
  }

  private startNodeRun(order: DispatchOrder): void {
    const subject = this.subjects.events(order.executionId, this.name);
    const executor = new NodeRunExecutor({
      nodeRunId: order.nodeRunId,
      plan: order.plan,
      baseEnv: this.baseEnv,
      emit: (event) => this.outbox.push(subject, event),
    });
    this.running.set(order.nodeRunId, executor);
    this.log.info({ executionId: order.executionId, nodeRunId: order.nodeRunId }, 'node run started');
    executor
      .run()
      .then((outcome) => this.log.info({ executionId: order.executionId, nodeRunId: order.nodeRunId, outcome }, 'node run finished'))
      .catch((err) => this.log.error({ nodeRunId: order.nodeRunId, err: String(err) }, 'node run crashed'))
      .finally(() => this.running.delete(order.nodeRunId));
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
