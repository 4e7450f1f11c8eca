/**
 * The node inventory: agents that registered, the portal's own `local` node, and their liveness.
 * Heartbeats are kept in memory and written to the database in batches, so 200 agents cost a few writes a second.
 */
import { BadRequestException, Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import type { Hello, Targets } from '@baton/shared';
import { BATON_CONFIG, BatonConfig, MISSED_HEARTBEATS } from '../core/config';
import { MetricsService } from '../core/metrics.service';
import { NodeRecord } from './node.entity';

export const LOCAL_NODE = 'local';

@Injectable()
export class NodesService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly lastHeartbeat = new Map<string, number>();
  /** SSH nodes' last reachability check in this replica; a node not yet checked counts as reachable. */
  private readonly sshReachable = new Map<string, boolean>();
  private flushTimer?: NodeJS.Timeout;

  constructor(
    @InjectRepository(NodeRecord) private readonly nodes: Repository<NodeRecord>,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.isLocalNodeEnabled) {
      await this.nodes.upsert(
        {
          name: LOCAL_NODE,
          executor: 'local',
          labels: { local: 'true' },
          hostname: null,
          version: null,
          status: 'online',
          lastSeen: new Date(),
        },
        ['name'],
      );
    } else {
      await this.nodes.update({ name: LOCAL_NODE }, { status: 'offline' });
    }
    this.flushTimer = setInterval(() => void this.flushLiveness().catch(() => undefined), this.config.heartbeatMs).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.flushTimer);
  }

  get silenceLimitMs(): number {
    return this.config.heartbeatMs * MISSED_HEARTBEATS;
  }

  async register(hello: Hello): Promise<void> {
    if (hello.node === LOCAL_NODE) throw new BadRequestException(`node name "${LOCAL_NODE}" is reserved for the portal's own host`);
    this.lastHeartbeat.set(hello.node, Date.now());
    await this.nodes.upsert(
      {
        name: hello.node,
        executor: 'agent',
        labels: hello.labels,
        hostname: hello.hostname,
        version: hello.version,
        status: 'online',
        lastSeen: new Date(),
      },
      ['name'],
    );
    this.metrics.agentsConnected.set(this.liveAgents().length);
  }

  /** A revoked agent: no longer alive, whatever it last said. */
  forgetAgent(node: string): void {
    this.lastHeartbeat.delete(node);
    void this.nodes.update({ name: node, executor: 'agent' }, { status: 'offline' });
    this.metrics.agentsConnected.set(this.liveAgents().length);
  }

  heartbeat(node: string): void {
    this.lastHeartbeat.set(node, Date.now());
  }

  /** Whether an agent has been heard from recently enough (as seen by this portal replica). */
  isAlive(node: string, now = Date.now()): boolean {
    const last = this.lastHeartbeat.get(node);
    return last !== undefined && now - last < this.silenceLimitMs;
  }

  setSshReachable(node: string, isReachable: boolean): void {
    this.sshReachable.set(node, isReachable);
  }

  msSinceHeartbeat(node: string, now = Date.now()): number | undefined {
    const last = this.lastHeartbeat.get(node);
    return last === undefined ? undefined : now - last;
  }

  list(): Promise<NodeRecord[]> {
    return this.nodes.find({ order: { name: 'ASC' } });
  }

  /**
   * The nodes a run should target: `local`, names, or a label selector (all labels must match).
   * Named nodes are taken even when offline (they will end `unreachable`); label selection takes online ones only.
   */
  async select(targets: Targets): Promise<Pick<NodeRecord, 'name' | 'executor'>[]> {
    if (targets.local) {
      if (!this.config.isLocalNodeEnabled) throw new BadRequestException('targets: the local node is disabled (BATON_LOCAL_NODE=false)');
      return this.nodes.findBy({ name: LOCAL_NODE });
    }
    if (targets.names?.length) {
      if (targets.names.includes(LOCAL_NODE) && !this.config.isLocalNodeEnabled) {
        throw new BadRequestException('targets.names: the local node is disabled (BATON_LOCAL_NODE=false)');
      }
      const found = await this.nodes.findBy({ name: In(targets.names) });
      const missing = targets.names.filter((n) => !found.some((f) => f.name === n));
      if (missing.length) throw new BadRequestException(`targets.names: unknown node ${missing.map((m) => `"${m}"`).join(', ')}`);
      return targets.names.map((n) => found.find((f) => f.name === n)!);
    }
    const selector = targets.labels ?? {};
    const candidates: Pick<NodeRecord, 'name' | 'executor'>[] = await this.nodes.query(
      `SELECT name, executor FROM nodes WHERE labels @> $1::jsonb ORDER BY name`,
      [JSON.stringify(selector)],
    );
    return candidates.filter((n) => {
      if (n.executor === 'local') return this.config.isLocalNodeEnabled && Object.keys(selector).length > 0;
      if (n.executor === 'ssh') return this.sshReachable.get(n.name) !== false;
      return this.isAlive(n.name);
    });
  }

  /**
   * Live nodes whose labels include all of `labels`, oldest registration first: agents heard from recently and SSH
   * nodes whose last reachability check succeeded (one not checked yet does not count).
   */
  async liveMatching(labels: Record<string, string>): Promise<Pick<NodeRecord, 'name' | 'executor' | 'registeredAt'>[]> {
    const candidates: Pick<NodeRecord, 'name' | 'executor' | 'registeredAt'>[] = await this.nodes.query(
      `SELECT name, executor, registered_at AS "registeredAt" FROM nodes
        WHERE labels @> $1::jsonb AND executor <> 'local' ORDER BY registered_at, name`,
      [JSON.stringify(labels)],
    );
    return candidates.filter((n) => (n.executor === 'ssh' ? this.sshReachable.get(n.name) === true : this.isAlive(n.name)));
  }

  private liveAgents(): string[] {
    return [...this.lastHeartbeat.keys()].filter((n) => this.isAlive(n));
  }

  /** Writes last-seen times and online/offline status; the database view of liveness lags by one interval at most. */
  private async flushLiveness(): Promise<void> {
    const now = Date.now();
    const online = this.liveAgents();
    const silent = [...this.lastHeartbeat.keys()].filter((n) => !this.isAlive(n, now));
    for (const name of online) await this.nodes.update({ name }, { status: 'online', lastSeen: new Date(this.lastHeartbeat.get(name)!) });
    if (silent.length) await this.nodes.update({ name: In(silent), status: 'online' }, { status: 'offline' });
    this.metrics.agentsConnected.set(online.length);
  }
}
