/**
 * The node agent: connects to NATS with the credentials the portal issued it, registers, heartbeats, accepts
 * signed dispatch orders whose plans are sealed to its own key, runs them with the shared executor and reports
 * events through JetStream. Everything it publishes carries its identity key's signature, so the portal drops
 * what another key sent in its name. It renews its credentials before they expire. One process normally runs
 * one Agent; the benchmark's swarm runs many in one process.
 */
import { hostname } from 'node:os';
import { connect, headers, jwtAuthenticator, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import {
  DispatchReply,
  Hello,
  helloReplySchema,
  nodePlanSchema,
  subjects,
  type AcceptedCredentials,
  type DispatchOrder,
  type SealedDispatchOrder,
  type Subjects,
} from '@baton/shared';
import {
  EnvelopeVerifier,
  IdentitySigner,
  NodeRunExecutor,
  SIGNATURE_HEADER,
  defaultBaseEnv,
  openSealed,
  signedMessageBytes,
  type AgentKeys,
} from '@baton/shared/node';
import { EventOutbox } from './outbox';
import { createLogger, type AgentLogger } from './log';
import { AgentRefusedError, type PortalClient } from './portal-client';

export const AGENT_VERSION = '0.2.0';

export interface AgentOptions {
  name: string;
  labels: Record<string, string>;
  keys: AgentKeys;
  /** What the portal issued when it accepted this agent. */
  credentials: AcceptedCredentials;
  /** Renews the credentials; without it (tests) they are used until they expire. */
  portal?: PortalClient;
  /** Called with each renewed set of credentials (the agent's state directory keeps them). */
  onCredentials?: (credentials: AcceptedCredentials) => void;
  /** Called when the portal refuses this agent for good (rejected, revoked): the process should exit. */
  onRefused?: (reason: string) => void;
  /** Overrides the NATS URL the portal named. */
  natsUrl?: string;
  /** Base64 SPKI of the portal's signing key, pinned: the agent refuses to start when the portal sends another. */
  portalKey?: string;
  spoolFile?: string;
  logger?: AgentLogger;
}

const HELLO_TIMEOUT_MS = 3000;
const HELLO_RETRY_MS = 1000;
/** Renew when this share of the credentials' lifetime is left; retry a failed renewal this often. */
const RENEW_AT_REMAINING = 1 / 3;
const RENEW_RETRY_MS = 5000;

export class Agent {
  private nc!: NatsConnection;
  private outbox!: EventOutbox;
  private readonly verifier: EnvelopeVerifier;
  private readonly running = new Map<string, NodeRunExecutor>();
  private readonly subs: Subscription[] = [];
  private heartbeatTimer?: NodeJS.Timeout;
  private readonly subjects: Subjects;
  private readonly log: AgentLogger;
  private readonly baseEnv = defaultBaseEnv();
  private readonly signer: IdentitySigner;
  private credentials: AcceptedCredentials;
  private renewTimer?: NodeJS.Timeout;
  private isStopping = false;

  constructor(private readonly options: AgentOptions) {
    this.credentials = options.credentials;
    this.subjects = subjects(options.credentials.subjectPrefix);
    this.log = options.logger ?? createLogger(`agent:${options.name}`);
    this.signer = new IdentitySigner(options.keys.seed);
    if (options.portalKey && options.portalKey !== options.credentials.portalKey) {
      throw new Error('the portal sent a different signing key than the pinned BATON_PORTAL_KEY: refusing to trust it');
    }
    this.verifier = new EnvelopeVerifier(options.credentials.portalKey);
  }

  get name(): string {
    return this.options.name;
  }

  get runningNodeRuns(): string[] {
    return [...this.running.keys()];
  }

  async start(): Promise<void> {
    const servers = this.options.natsUrl ?? this.credentials.natsUrl;
    if (!servers) throw new Error('the portal names no NATS server for agents (it runs without NATS_URL): pass --nats');
    this.nc = await connect({
      servers,
      name: `baton-agent-${this.options.name}`,
      // Replies come to the agent's own inbox prefix: its credentials allow no other inbox.
      inboxPrefix: this.subjects.agentInbox(this.name),
      // A function: a reconnect after a renewal presents the new JWT.
      authenticator: this.credentials.jwt
        ? jwtAuthenticator(() => this.credentials.jwt!, new TextEncoder().encode(this.options.keys.seed))
        : undefined,
      maxReconnectAttempts: -1,
    });
    this.outbox = new EventOutbox(jetstream(this.nc), this.options.spoolFile, this.log, (subject, body) =>
      this.signedHeaders(subject, body),
    );
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
    this.scheduleRenewal();
    this.log.info({ node: this.name, labels: this.options.labels }, 'agent registered');
  }

  /** Stops taking work; running steps are cancelled, undelivered events are spooled. */
  async stop(): Promise<void> {
    this.isStopping = true;
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.renewTimer);
    for (const executor of this.running.values()) executor.cancel('agent stopping');
    for (const sub of this.subs) sub.unsubscribe();
    this.outbox?.stop();
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => undefined);
  }

  /** Resolves when every event emitted so far is stored in JetStream. */
  flushed(): Promise<void> {
    return this.outbox.drained();
  }

  /** Says hello until the portal answers: the portal may start after its agents. */
  private async register(): Promise<number> {
    for (;;) {
      const hello: Hello = {
        node: this.name,
        hostname: hostname(),
        labels: this.options.labels,
        version: AGENT_VERSION,
        running: this.runningNodeRuns,
        sentAt: Date.now(),
      };
      try {
        const body = new TextEncoder().encode(JSON.stringify(hello));
        const msg = await this.nc.request(this.subjects.hello, body, {
          timeout: HELLO_TIMEOUT_MS,
          headers: this.signedHeaders(this.subjects.hello, body),
        });
        const reply = helloReplySchema.parse(msg.json());
        if (!reply.ok) throw new Error(`portal refused registration: ${reply.reason}`);
        if (reply.portalKey !== this.credentials.portalKey)
          throw new Error('portal refused registration: it answered with another signing key');
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
        if (this.isStopping) return;
        if (status.type === 'reconnect') {
          this.log.info({}, 'reconnected to NATS');
          this.register().catch((err) => this.log.error({ err: String(err) }, 'registration failed'));
        } else if (status.type === 'disconnect' && this.options.portal) {
          // The server may have cut us off because the portal revoked this agent: ask, and stop for good if so.
          // Otherwise renew now, in case the credentials expired while the portal was unreachable.
          clearTimeout(this.renewTimer);
          void this.renew(this.options.portal);
        }
      }
    })();
  }

  private heartbeat(): void {
    if (this.nc.isClosed()) return;
    const subject = this.subjects.heartbeat(this.name);
    const body = new TextEncoder().encode(JSON.stringify({ node: this.name, running: this.runningNodeRuns, sentAt: Date.now() }));
    this.nc.publish(subject, body, { headers: this.signedHeaders(subject, body) });
  }

  /** The identity key's signature of subject and body, as a NATS header: the portal drops what another key signed. */
  private signedHeaders(subject: string, body: Uint8Array) {
    const h = headers();
    h.set(SIGNATURE_HEADER, this.signer.sign(signedMessageBytes(subject, body)));
    return h;
  }

  /** Renews the credentials before they expire; the NATS connection presents the new ones at its next (re)connect. */
  private scheduleRenewal(delayMs?: number): void {
    const { portal } = this.options;
    const expiresAt = this.credentials.expiresAt ? Date.parse(this.credentials.expiresAt) : undefined;
    if (!portal || expiresAt === undefined || this.isStopping) return;
    const lifetimeMs = expiresAt - Date.now();
    const waitMs = delayMs ?? Math.max(0, lifetimeMs * (1 - RENEW_AT_REMAINING));
    this.renewTimer = setTimeout(() => void this.renew(portal), Math.min(waitMs, 2 ** 31 - 1));
  }

  private async renew(portal: PortalClient): Promise<void> {
    try {
      const reply = await portal.credentials();
      if (reply.status !== 'accepted') throw new AgentRefusedError(`portal says this agent is ${reply.status}`);
      this.credentials = reply;
      this.options.onCredentials?.(reply);
      this.log.info({ expiresAt: reply.expiresAt }, 'credentials renewed');
      this.scheduleRenewal();
    } catch (err) {
      if (err instanceof AgentRefusedError) {
        this.log.error({ err: err.message }, 'the portal refuses this agent; stopping');
        this.options.onRefused?.(err.message);
        return;
      }
      this.log.warn({ err: String(err) }, 'credentials renewal failed; retrying');
      this.scheduleRenewal(RENEW_RETRY_MS);
    }
  }

  private onOrder(msg: Msg): void {
    const reply = (answer: DispatchReply): void => {
      msg.respond(JSON.stringify(answer));
    };
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
    if (this.running.has(order.nodeRunId)) return reply({ accepted: true });
    const plan = this.openPlan(order);
    if (!plan.ok) {
      this.log.warn({ reason: plan.reason, nodeRunId: order.nodeRunId }, 'order refused');
      return reply({ accepted: false, reason: plan.reason });
    }
    this.startNodeRun(plan.order);
    reply({ accepted: true });
  }

  /** Decrypts the plan sealed to this agent's X25519 key. */
  private openPlan(order: SealedDispatchOrder): { ok: true; order: DispatchOrder } | { ok: false; reason: string } {
    let text: string;
    try {
      text = openSealed(this.options.keys.boxPrivateKey, order.sealedPlan);
    } catch {
      return { ok: false, reason: "cannot open the plan: it is not sealed to this agent's key" };
    }
    const plan = nodePlanSchema.safeParse(safeJsonText(text));
    if (!plan.success) return { ok: false, reason: `malformed plan: ${plan.error.issues[0]?.message}` };
    const { sealedPlan: _sealed, ...rest } = order;
    return { ok: true, order: { ...rest, plan: plan.data } };
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
  return safeJsonText(new TextDecoder().decode(data));
}

function safeJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
