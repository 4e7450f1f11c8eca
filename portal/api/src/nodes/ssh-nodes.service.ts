/**
 * Agentless SSH nodes: declared as `kind: Node` in RUNBOOKS_DIR or through the API, their periodic reachability
 * check (TCP connect and SSH banner, bounded concurrency, no login), and opening connections to them with the
 * stored key or password, the pinned host key (or trust on first use, then pinned), and jump hosts. Host key
 * pinning and mismatches are audited.
 */
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnApplicationBootstrap,
  OnModuleInit,
  OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, IsNull, Not, Repository } from 'typeorm';
import { sshNodeProblems, sshNodeSpecSchema, type SshNodeSpec } from '@baton/shared';
import { AuditService } from '../audit/audit.service';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import type { LoadedResource } from '../runbooks/runbook-loader';
import { RunbooksService } from '../runbooks/runbooks.service';
import { SecretsService } from '../secrets/secrets.service';
import { checkSshBanner } from '../ssh/banner';
import { connectSsh, JumpConnections, SshConnectError, type SshConnection, type SshEndpoint } from '../ssh/connect';
import { NodeRecord } from './node.entity';
import { LOCAL_NODE, NodesService } from './nodes.service';
import { SshNodeRecord } from './ssh-node.entity';

const CHECK_CONCURRENCY = 16;
const CHECK_TIMEOUT_MS = 3000;
/** Jump hosts may themselves have jump hosts; a longer chain is almost certainly a loop. */
const MAX_JUMPS = 4;
const SYSTEM = { type: 'system' as const, name: 'ssh' };

export interface SshNodeView {
  host: string;
  port: number;
  user: string;
  keySecret: string | null;
  passwordSecret: string | null;
  hostKey: string;
  pinnedHostKey: string | null;
  jumpHost: string | null;
  sourceFile: string | null;
  checkedAt: Date | null;
  /** Why the last check found the node unreachable; null when it was reachable. */
  unreachableReason: string | null;
}

@Injectable()
export class SshNodesService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SshNodesService.name);
  private checkTimer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  /** Connections to jump hosts, shared by the node runs behind them. */
  readonly jumps = new JumpConnections();

  constructor(
    @InjectRepository(SshNodeRecord) private readonly sshNodes: Repository<SshNodeRecord>,
    @InjectRepository(NodeRecord) private readonly nodeRows: Repository<NodeRecord>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly nodes: NodesService,
    private readonly secrets: SecretsService,
    private readonly audit: AuditService,
    private readonly runbooks: RunbooksService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  onModuleInit(): void {
    this.runbooks.onResourcesLoaded(async (resources) => {
      await this.storeFileNodes(resources);
      this.checkSoon();
    });
  }

  onApplicationBootstrap(): void {
    this.checkTimer = setInterval(() => this.checkSoon(), this.config.ssh.checkIntervalMs).unref();
    this.checkSoon();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.checkTimer);
    await this.checking;
    this.jumps.closeAll();
  }

  /** Declares the `kind: Node` resources of a load of RUNBOOKS_DIR; nodes from files no longer declaring them go. */
  private async storeFileNodes(resources: LoadedResource[]): Promise<void> {
    const declared = new Set<string>();
    for (const { resource, file } of resources) {
      if (resource.kind !== 'Node') continue;
      const { apiVersion: _v, kind: _k, ...spec } = resource;
      const existing = await this.nodeRows.findOneBy({ name: spec.name });
      if (existing && existing.executor !== 'ssh') {
        this.logger.warn({ node: spec.name, file }, `skipped SSH node: the name is taken by an ${existing.executor} node`);
        continue;
      }
      await this.save(spec, file);
      declared.add(spec.name);
    }
    const fromFiles = await this.sshNodes.find({ where: { sourceFile: Not(IsNull()) }, select: { name: true } });
    for (const { name } of fromFiles.filter((n) => !declared.has(n.name))) await this.nodeRows.delete({ name });
  }

  async views(): Promise<Map<string, SshNodeView>> {
    const rows = await this.sshNodes.find();
    return new Map(rows.map((r) => [r.name, viewOf(r)]));
  }

  async create(body: unknown): Promise<SshNodeView> {
    const spec = validSpec(body);
    if (await this.nodeRows.existsBy({ name: spec.name })) throw new ConflictException(`node "${spec.name}" already exists`);
    await this.checkJumpHost(spec);
    const saved = await this.save(spec, null);
    await this.checkNodes([saved]);
    return viewOf((await this.sshNodes.findOneBy({ name: spec.name }))!);
  }

  async update(name: string, body: unknown): Promise<SshNodeView> {
    const current = await this.apiManaged(name);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestException('the body must be a JSON object');
    if ('name' in body && body.name !== name) throw new BadRequestException('name: a node cannot be renamed; delete it and create another');
    const labels = (await this.nodeRows.findOneByOrFail({ name })).labels;
    const spec = validSpec({ ...specOf(current, labels), ...body, name });
    await this.checkJumpHost(spec);
    const saved = await this.save(spec, null);
    await this.checkNodes([saved]);
    return viewOf((await this.sshNodes.findOneBy({ name }))!);
  }

  async remove(name: string): Promise<void> {
    await this.apiManaged(name);
    const dependants = await this.sshNodes.findBy({ jumpHost: name });
    if (dependants.length > 0) {
      throw new ConflictException(
        `node "${name}" is the jump host of ${dependants.map((d) => `"${d.name}"`).join(', ')}; change those first`,
      );
    }
    await this.nodeRows.delete({ name }); // ssh_nodes follows (ON DELETE CASCADE)
  }

  /**
   * Opens a connection to the node (through its jump hosts), verifying each host key. A `tofu` node without a
   * pinned key gets the key it presents pinned (audited); a mismatch is audited and refused.
   */
  async connect(name: string): Promise<SshConnection> {
    const chain = await this.chainOf(name);
    const endpoints = await this.endpoints(chain);
    try {
      const connection = await connectSsh(endpoints.at(-1)!, endpoints.slice(0, -1), this.config.ssh.connectTimeoutMs, this.jumps);
      await this.pinFirstKey(chain.at(-1)!, connection.hostKey);
      return connection;
    } catch (err) {
      if (err instanceof SshConnectError && err.kind === 'hostkey') {
        await this.audit.record({
          actor: SYSTEM,
          action: 'node.hostkey.mismatch',
          target: `node:${err.node}`,
          details: { ...err.hostKey },
        });
      }
      throw err;
    }
  }

  /** The node and its jump hosts, outermost jump host first. */
  private async chainOf(name: string): Promise<SshNodeRecord[]> {
    const chain: SshNodeRecord[] = [];
    for (let next: string | null = name; next !== null;) {
      const record = await this.sshNodes.findOneBy({ name: next });
      if (!record) {
        const what =
          chain.length === 0 ? `node "${name}" is not an SSH node` : `jump host "${next}" of node "${chain[0].name}" is not an SSH node`;
        throw new SshConnectError('other', what, name);
      }
      if (chain.length > MAX_JUMPS || chain.some((c) => c.name === record.name)) {
        throw new SshConnectError('other', `the jump hosts of node "${name}" form a loop or a chain longer than ${MAX_JUMPS}`, name);
      }
      chain.unshift(record);
      next = record.jumpHost;
    }
    return chain;
  }

  /** Connection details with the credentials read from secrets (always from the database, never cached here). */
  private async endpoints(chain: SshNodeRecord[]): Promise<SshEndpoint[]> {
    const names = chain.flatMap((n) => [n.keySecret, n.passwordSecret]).filter((s): s is string => s !== null);
    const values = await this.secrets.resolve(names);
    return chain.map((node) => {
      const missing = [node.keySecret, node.passwordSecret].filter((s) => s !== null && !values.has(s));
      if (missing.length > 0) {
        throw new SshConnectError('auth', `secret "${missing[0]}" of node "${node.name}" does not exist; an admin can set it`, node.name);
      }
      return {
        name: node.name,
        host: node.host,
        port: node.port,
        user: node.user,
        privateKey: node.keySecret === null ? undefined : values.get(node.keySecret),
        password: node.passwordSecret === null ? undefined : values.get(node.passwordSecret),
        expectedHostKey: node.pinnedHostKey ?? undefined,
      };
    });
  }

  private async pinFirstKey(node: SshNodeRecord, seen: string): Promise<void> {
    if (node.pinnedHostKey !== null) return;
    const result = await this.sshNodes.update({ name: node.name, pinnedHostKey: IsNull() }, { pinnedHostKey: seen });
    if (!result.affected) return; // pinned meanwhile by a concurrent connection
    node.pinnedHostKey = seen;
    this.logger.log({ node: node.name, hostKey: seen }, 'pinned host key on first use');
    await this.audit.record({ actor: SYSTEM, action: 'node.hostkey.pinned', target: `node:${node.name}`, details: { hostKey: seen } });
  }

  private async save(spec: SshNodeSpec, sourceFile: string | null): Promise<SshNodeRecord> {
    return this.db.transaction(async (tx) => {
      const previous = await tx.findOneBy(SshNodeRecord, { name: spec.name });
      await tx.upsert(
        NodeRecord,
        { name: spec.name, executor: 'ssh', labels: spec.labels, hostname: spec.host, version: null, status: 'offline' },
        { conflictPaths: ['name'], skipUpdateIfNoValuesChanged: true },
      );
      // A changed declaration of the host key, or another host, drops the pinned key: the new declaration decides.
      const isSameHost = previous && previous.host === spec.host && previous.port === spec.port && previous.hostKey === spec.hostKey;
      const pinned = spec.hostKey === 'tofu' ? (isSameHost ? previous.pinnedHostKey : null) : spec.hostKey;
      const record = tx.create(SshNodeRecord, {
        name: spec.name,
        host: spec.host,
        port: spec.port,
        user: spec.user,
        keySecret: spec.keySecret ?? null,
        passwordSecret: spec.passwordSecret ?? null,
        hostKey: spec.hostKey,
        pinnedHostKey: pinned,
        jumpHost: spec.jumpHost ?? null,
        sourceFile,
        checkReason: previous?.checkReason ?? null,
        checkedAt: previous?.checkedAt ?? null,
      });
      return tx.save(record);
    });
  }

  private async apiManaged(name: string): Promise<SshNodeRecord> {
    const record = await this.sshNodes.findOneBy({ name });
    if (!record) {
      const other = await this.nodeRows.findOneBy({ name });
      if (other) throw new ConflictException(`node "${name}" is an ${other.executor} node; only SSH nodes are managed here`);
      throw new NotFoundException(`node "${name}" not found`);
    }
    if (record.sourceFile !== null) throw new ConflictException(`node "${name}" is declared in ${record.sourceFile}; change it there`);
    return record;
  }

  private async checkJumpHost(spec: SshNodeSpec): Promise<void> {
    if (spec.jumpHost === undefined) return;
    if (!(await this.sshNodes.existsBy({ name: spec.jumpHost }))) {
      throw new BadRequestException({
        message: `jumpHost: "${spec.jumpHost}" is not an SSH node`,
        details: [{ field: 'jumpHost', message: 'not an SSH node' }],
      });
    }
  }

  private checkSoon(): void {
    this.checking ??= this.sshNodes
      .find()
      .then((all) => this.checkNodes(all))
      .catch((err) => this.logger.error({ err: String(err) }, 'SSH reachability check failed'))
      .finally(() => (this.checking = undefined));
  }

  /** Banner checks with bounded concurrency. A node behind a jump host is as reachable as its jump host. */
  private async checkNodes(records: SshNodeRecord[]): Promise<void> {
    const queue = records.filter((r) => r.jumpHost === null);
    const results = new Map<string, string | null>();
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const check = await checkSshBanner(next.host, next.port, CHECK_TIMEOUT_MS);
        results.set(next.name, check.isReachable ? null : check.reason);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, queue.length) }, worker));
    for (const record of records.filter((r) => r.jumpHost !== null)) {
      const jump = results.has(record.jumpHost!)
        ? results.get(record.jumpHost!)
        : (await this.sshNodes.findOneBy({ name: record.jumpHost! }))?.checkReason;
      results.set(record.name, jump ? `jump host "${record.jumpHost}" unreachable: ${jump}` : null);
    }
    const now = new Date();
    for (const [name, reason] of results) {
      this.nodes.setSshReachable(name, reason === null);
      await this.sshNodes.update({ name }, { checkReason: reason, checkedAt: now });
      await this.nodeRows.update(
        { name },
        { status: reason === null ? 'online' : 'offline', ...(reason === null ? { lastSeen: now } : {}) },
      );
    }
  }
}

function validSpec(body: unknown): SshNodeSpec {
  const parsed = sshNodeSpecSchema.safeParse(body);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
    throw new BadRequestException({ message: details.map((d) => `${d.field}: ${d.message}`).join('; '), details });
  }
  const problems = sshNodeProblems(parsed.data);
  if (problems.length > 0) {
    const details = problems.map((p) => ({ field: p.path.join('.') || '(body)', message: p.message }));
    throw new BadRequestException({ message: problems.map((p) => p.message).join('; '), details });
  }
  if (parsed.data.name === LOCAL_NODE) throw new BadRequestException(`name: "${LOCAL_NODE}" is reserved for the portal's own host`);
  return parsed.data;
}

function specOf(record: SshNodeRecord, labels: Record<string, string>): SshNodeSpec {
  return {
    name: record.name,
    executor: 'ssh',
    host: record.host,
    port: record.port,
    user: record.user,
    keySecret: record.keySecret ?? undefined,
    passwordSecret: record.passwordSecret ?? undefined,
    hostKey: record.hostKey,
    labels,
    jumpHost: record.jumpHost ?? undefined,
  };
}

function viewOf(r: SshNodeRecord): SshNodeView {
  return {
    host: r.host,
    port: r.port,
    user: r.user,
    keySecret: r.keySecret,
    passwordSecret: r.passwordSecret,
    hostKey: r.hostKey,
    pinnedHostKey: r.pinnedHostKey,
    jumpHost: r.jumpHost,
    sourceFile: r.sourceFile,
    checkedAt: r.checkedAt,
    unreachableReason: r.checkReason,
  };
}
