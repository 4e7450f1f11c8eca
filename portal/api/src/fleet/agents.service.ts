/**
 * Agent enrollment and acceptance (SaltStack's key acceptance, without its mistakes): an agent proves it holds
 * its identity key with every request, a name is bound to one key for good (no silent takeover), an admin or a
 * token decides, and only accepted agents get NATS credentials. Revoking disconnects the agent (NATS revocation
 * in operator mode) and ends its running node runs `lost`.
 */
import {
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  UnauthorizedException,
  BadRequestException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import {
  SIGNED_REQUEST_MAX_AGE_MS,
  type AcceptedCredentials,
  type AgentStatus,
  type CredentialsReply,
  type EnrollRequest,
} from '@baton/shared';
import { credentialsSigningText, fingerprint, isBoxPublicKey, isUserPublicKey, verifyIdentitySignature } from '@baton/shared/node';
import { AuditService } from '../audit/audit.service';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { rowsOf } from '../core/database/rows';
import { ExecutionsService } from '../executions/executions.service';
import { NodesService } from '../nodes/nodes.service';
import { SigningKeyService } from './signing-key.service';
import { AgentTrustService } from './agent-trust.service';
import { EnrollmentTokensService } from './enrollment-tokens.service';
import { AgentIdentity, EnrollmentToken } from './fleet.entity';
import { NATS_AUTHORITY } from './fleet.tokens';
import type { NatsAuthority } from './nats-authority';

export interface AgentView {
  name: string;
  status: AgentStatus;
  fingerprint: string;
  labels: Record<string, string>;
  hostname: string | null;
  requestedAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
  reason: string | null;
}

export type Decision = 'accept' | 'reject' | 'revoke';

/** Which status each decision moves an agent from and to. */
const DECISIONS: Record<Decision, { from: AgentStatus[]; to: AgentStatus }> = {
  accept: { from: ['pending'], to: 'accepted' },
  reject: { from: ['pending'], to: 'rejected' },
  revoke: { from: ['accepted'], to: 'revoked' },
};

@Injectable()
export class AgentsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AgentsService.name);

  constructor(
    @InjectRepository(AgentIdentity) private readonly identities: Repository<AgentIdentity>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly tokens: EnrollmentTokensService,
    private readonly trust: AgentTrustService,
    private readonly nodes: NodesService,
    private readonly executions: ExecutionsService,
    private readonly signingKey: SigningKeyService,
    private readonly audit: AuditService,
    @Inject(NATS_AUTHORITY) private readonly authority: NatsAuthority | undefined,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.fleet.isAutoAcceptOn) {
      this.logger.warn('BATON_AUTO_ACCEPT is on: every agent that asks is accepted without a token. Use it on a laptop only.');
    }
  }

  /** The authority's system-account connection (opened by the first revocation) goes with the portal. */
  async onApplicationShutdown(): Promise<void> {
    await this.authority?.close();
  }

  async list(): Promise<AgentView[]> {
    const all = await this.identities.find({ order: { requestedAt: 'ASC' } });
    const order: Record<AgentStatus, number> = { pending: 0, accepted: 1, rejected: 2, revoked: 3 };
    return all.sort((a, b) => order[a.status] - order[b.status]).map(toView);
  }

  /**
   * An agent asks to join. `rawBody` is what it signed: the signature proves it holds the private key of the public
   * key it presents. The same name and key again is idempotent; the name with another key is refused and audited.
   */
  async enroll(request: EnrollRequest, rawBody: string, signature: string | undefined, source?: string): Promise<AgentView> {
    if (!isUserPublicKey(request.publicKey)) throw new BadRequestException('publicKey: not an NKey user public key (U...)');
    if (!isBoxPublicKey(request.boxPublicKey)) throw new BadRequestException('boxPublicKey: not a base64 X25519 public key (32 bytes)');
    if (!verifyIdentitySignature(request.publicKey, rawBody, signature)) {
      throw new UnauthorizedException('signature: the request is not signed by the key it presents');
    }
    checkFreshness(request.sentAt);
    const existing = await this.identities.findOneBy({ name: request.name });
    if (existing) return this.enrollAgain(existing, request, source);
    const byKey = await this.identities.findOneBy({ publicKey: request.publicKey });
    if (byKey) throw new ConflictException(`this key is already enrolled as node "${byKey.name}"`);

    const identity = await this.db
      .transaction(async (tx) => this.admit(tx.getRepository(EnrollmentToken), tx.getRepository(AgentIdentity), request))
      .catch((err) => {
        if ((err as { code?: string }).code === '23505')
          throw new ConflictException(`node name "${request.name}" or this key was just enrolled by another request`);
        throw err;
      });
    // After the commit: the audit log takes a connection of its own, which must not wait inside the transaction.
    if (identity.status === 'accepted') {
      await this.audit.record({
        actor: { type: 'system', name: identity.decidedBy! },
        action: 'agent.accepted',
        target: `agent:${identity.name}`,
        details: { fingerprint: identity.fingerprint, labels: identity.labels, automatic: true },
        source,
      });
    }
    return toView(identity);
  }

  /** Takes a use of the token (or applies BATON_AUTO_ACCEPT) and stores the new identity, pending or accepted. */
  private async admit(
    tokens: Repository<EnrollmentToken>,
    identities: Repository<AgentIdentity>,
    request: EnrollRequest,
  ): Promise<AgentIdentity> {
    const token = request.token ? await this.tokens.use(request.token, tokens) : undefined;
    if (!token && !this.config.fleet.isAutoAcceptOn) {
      throw new UnauthorizedException('enrollment token required: ask an admin for one (POST /api/v1/enrollment-tokens)');
    }
    const pinned = token?.labels ?? {};
    const conflicts = Object.entries(pinned).filter(([k, v]) => request.labels[k] !== undefined && request.labels[k] !== v);
    if (conflicts.length) {
      throw new ForbiddenException(`labels: this token admits ${conflicts.map(([k, v]) => `${k}=${v}`).join(', ')} only`);
    }
    const isAccepted = token ? token.autoAccept : this.config.fleet.isAutoAcceptOn;
    const decidedBy = !isAccepted ? null : token ? `token:${token.id}` : 'auto-accept';
    const identity = await identities.save(
      identities.create({
        name: request.name,
        status: isAccepted ? 'accepted' : 'pending',
        publicKey: request.publicKey,
        boxPublicKey: request.boxPublicKey,
        fingerprint: fingerprint(request.publicKey),
        labels: { ...request.labels, ...pinned },
        pinnedLabels: pinned,
        hostname: request.hostname ?? null,
        tokenId: token?.id ?? null,
        decidedAt: isAccepted ? new Date() : null,
        decidedBy,
        reason: null,
        credentialsIssuedAt: null,
      }),
    );
    return identity;
  }

  /**
   * The signed credentials request an agent polls while pending and repeats to renew: 200 with credentials when
   * accepted, `pending` while it waits, 403 once rejected or revoked.
   */
  async credentials(name: string, sentAt: number, signature: string | undefined, source?: string): Promise<CredentialsReply> {
    const identity = await this.identities.findOneBy({ name });
    if (!identity || !verifyIdentitySignature(identity.publicKey, credentialsSigningText(name, sentAt), signature)) {
      throw new UnauthorizedException(`agent ${name}: unknown, or the request is not signed by its enrolled key`);
    }
    checkFreshness(sentAt);
    if (identity.status === 'pending') return { status: 'pending', fingerprint: identity.fingerprint };
    if (identity.status !== 'accepted') {
      throw new ForbiddenException(
        `agent ${name} was ${identity.status}${identity.reason ? `: ${identity.reason}` : ''}; it may not connect`,
      );
    }
    const issued = await this.issueJwt(identity);
    const isRenewal = identity.credentialsIssuedAt !== null;
    await this.identities.update({ name }, { credentialsIssuedAt: new Date() });
    await this.audit.record({
      actor: { type: 'agent', name },
      action: isRenewal ? 'agent.credentials.renewed' : 'agent.credentials.issued',
      target: `agent:${name}`,
      details: { fingerprint: identity.fingerprint, expiresAt: issued.expiresAt, natsJwt: issued.jwt !== null },
      source,
    });
    const reply: AcceptedCredentials = {
      status: 'accepted',
      fingerprint: identity.fingerprint,
      natsUrl: this.config.fleet.agentNatsUrl,
      subjectPrefix: this.config.subjectPrefix,
      portalKey: this.signingKey.publicKey,
      jwt: issued.jwt,
      expiresAt: issued.expiresAt,
      labels: identity.labels,
    };
    return reply;
  }

  async decide(name: string, decision: Decision, decidedBy: string, reason?: string): Promise<AgentView> {
    const { from, to } = DECISIONS[decision];
    const moved = rowsOf<{ name: string }>(
      await this.identities.query(
        `UPDATE agent_identities SET status = $2, decided_at = now(), decided_by = $3, reason = $4
          WHERE name = $1 AND status = ANY($5::text[]) RETURNING name`,
        [name, to, decidedBy, reason ?? null, from],
      ),
    );
    const identity = await this.identities.findOneBy({ name });
    if (!identity) throw new NotFoundException(`agent ${name} not found`);
    if (moved.length === 0)
      throw new ConflictException(`agent ${name} is ${identity.status}: only a ${from.join(' or ')} agent can be ${to}`);
    this.trust.forget(name);
    if (decision === 'revoke') await this.disconnect(identity);
    return toView(identity);
  }

  /** Forgets a pending or rejected request, so that the name can enroll again with a new key. */
  async remove(name: string): Promise<void> {
    const identity = await this.identities.findOneBy({ name });
    if (!identity) throw new NotFoundException(`agent ${name} not found`);
    if (identity.status === 'accepted' || identity.status === 'revoked') {
      throw new ConflictException(`agent ${name} is ${identity.status}: revoke an accepted agent instead; a revoked one stays on record`);
    }
    await this.identities.delete({ name });
  }

  private async enrollAgain(existing: AgentIdentity, request: EnrollRequest, source?: string): Promise<AgentView> {
    if (existing.publicKey !== request.publicKey) {
      await this.audit.record({
        actor: { type: 'anonymous', name: request.name },
        action: 'agent.takeover.refused',
        target: `agent:${request.name}`,
        details: { enrolledFingerprint: existing.fingerprint, presentedFingerprint: fingerprint(request.publicKey) },
        source,
      });
      throw new ConflictException(
        `node name "${request.name}" is enrolled with another key (${existing.fingerprint}); choose another name, or have an admin remove the old request`,
      );
    }
    if (existing.status === 'rejected' || existing.status === 'revoked') {
      throw new ForbiddenException(`agent ${request.name} was ${existing.status}: re-enrollment with the same key is refused`);
    }
    return toView(existing);
  }

  private async issueJwt(identity: AgentIdentity): Promise<{ jwt: string | null; expiresAt: string | null }> {
    if (!this.authority) return { jwt: null, expiresAt: null };
    const { jwt, expiresAt } = await this.authority.issueAgentJwt({
      userPublicKey: identity.publicKey,
      node: identity.name,
      subjectPrefix: this.config.subjectPrefix,
      ttlMs: this.config.fleet.credentialsTtlMs,
    });
    return { jwt, expiresAt: expiresAt.toISOString() };
  }

  /** Cuts a revoked agent off: NATS revocation (operator mode), liveness, and its running node runs end `lost`. */
  private async disconnect(identity: AgentIdentity): Promise<void> {
    this.nodes.forgetAgent(identity.name);
    for (const run of (await this.executions.liveNodeRuns()).filter((r) => r.node === identity.name && r.executor === 'agent')) {
      await this.executions.endNodeRun(run.executionId, run.id, 'lost', 'agent revoked');
    }
    if (!this.authority) return;
    const revoked = await this.identities.find({ where: { status: 'revoked' } });
    try {
      await this.authority.pushRevocations(revoked.map((r) => ({ userPublicKey: r.publicKey, revokedAt: r.decidedAt ?? new Date() })));
    } catch (err) {
      // The portal already refuses everything the agent signs; the NATS server lets its connection live until
      // the credentials expire. Loud, so that an operator fixes the system account settings.
      this.logger.error({ agent: identity.name, err: String(err) }, 'NATS revocation could not be pushed to the servers');
      throw new ServiceUnavailableException(`agent ${identity.name} is revoked, but the NATS servers were not told: ${String(err)}`);
    }
  }
}

function checkFreshness(sentAt: number): void {
  if (Math.abs(Date.now() - sentAt) > SIGNED_REQUEST_MAX_AGE_MS) {
    throw new UnauthorizedException('sentAt: the request is stale or from the future (check the clock of the node)');
  }
}

function toView(i: AgentIdentity): AgentView {
  return {
    name: i.name,
    status: i.status,
    fingerprint: i.fingerprint,
    labels: i.labels,
    hostname: i.hostname,
    requestedAt: i.requestedAt,
    decidedAt: i.decidedAt,
    decidedBy: i.decidedBy,
    reason: i.reason,
  };
}
