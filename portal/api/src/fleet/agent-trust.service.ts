/**
 * Which agents the portal trusts, and with which keys: what NATS messages are checked against (hello, heartbeats,
 * events must carry the accepted identity key's signature, so one node cannot pose as another even on a NATS
 * server without per-agent credentials) and what dispatch plans are sealed to. Identities are cached briefly; a
 * decision in this replica takes effect at once, one made in another replica within CACHE_MS.
 */
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SIGNATURE_HEADER, signedMessageBytes, verifyIdentitySignature } from '@baton/shared/node';
import { AgentIdentity } from './fleet.entity';

const CACHE_MS = 5000;

export interface TrustedAgent {
  name: string;
  publicKey: string;
  boxPublicKey: string;
  pinnedLabels: Record<string, string>;
}

/** A NATS message as far as verification goes (headers as nats.js exposes them). */
export interface SignedMessage {
  subject: string;
  data: Uint8Array;
  headers?: { get(key: string): string };
}

@Injectable()
export class AgentTrustService {
  private readonly cache = new Map<string, { agent: TrustedAgent | undefined; fetchedAt: number }>();

  constructor(@InjectRepository(AgentIdentity) private readonly identities: Repository<AgentIdentity>) {}

  /** The accepted agent of that name, or undefined (unknown, pending, rejected, revoked). */
  async accepted(name: string): Promise<TrustedAgent | undefined> {
    const cached = this.cache.get(name);
    if (cached && Date.now() - cached.fetchedAt < CACHE_MS) return cached.agent;
    const identity = await this.identities.findOneBy({ name });
    const agent =
      identity?.status === 'accepted'
        ? { name, publicKey: identity.publicKey, boxPublicKey: identity.boxPublicKey, pinnedLabels: identity.pinnedLabels }
        : undefined;
    this.cache.set(name, { agent, fetchedAt: Date.now() });
    return agent;
  }

  /** Whether the message carries the signature of `node`'s accepted identity key over its subject and body. */
  async isSignedBy(node: string, msg: SignedMessage): Promise<boolean> {
    const agent = await this.accepted(node);
    if (!agent) return false;
    const signature = msg.headers?.get(SIGNATURE_HEADER);
    return verifyIdentitySignature(agent.publicKey, signedMessageBytes(msg.subject, msg.data), signature || undefined);
  }

  forget(name: string): void {
    this.cache.delete(name);
  }
}
