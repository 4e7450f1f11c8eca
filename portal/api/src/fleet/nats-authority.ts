/**
 * The portal as a NATS authority (decentralized JWT authentication, "operator mode"): it holds the account signing
 * key and signs each agent's user JWT, allowed only that agent's own subjects; and, holding the operator signing key
 * and the system account's credentials, it revokes agents by re-issuing the account JWT with a revocation list and
 * pushing it to the servers, which then close the revoked users' live connections.
 *
 * Also the pure JWT building that `npm run nats:setup` (scripts/nats-setup.ts) shares with it: key checks, account
 * limits, user JWTs.
 */
import { Algorithms, decode, encode, encodeUser, type Account, type ClaimsData, type OperatorLimits, type User } from '@nats-io/jwt';
import { fromPublic, fromSeed, type KeyPair } from '@nats-io/nkeys';
import { connect, credsAuthenticator, TimeoutError, type NatsConnection } from '@nats-io/transport-node';
import { NODE_NAME_PATTERN, subjects } from '@baton/shared';
import { IdentitySigner } from '@baton/shared/node';

export interface NatsAuthorityOptions {
  /** 'SA...' account signing key seed: signs agents' user JWTs. */
  accountSigningSeed: string;
  /** The account JWT as nats:setup issued it (the base for re-issuing with revocations). */
  accountJwt: string;
  /** 'SO...' operator signing key seed: re-signs the account JWT with revocations. */
  operatorSigningSeed?: string;
  /** System-account user creds (file content): pushes account JWT updates to the servers. */
  systemCreds?: Uint8Array;
  natsUrl: string;
}

export interface AgentPermissions {
  pub: { allow: string[] };
  sub: { allow: string[] };
  resp: { max: number; ttl: number };
}

/** Where the servers take account JWT updates (full resolver), answering on the reply subject. */
export const CLAIMS_UPDATE_SUBJECT = '$SYS.REQ.CLAIMS.UPDATE';
const CLAIMS_UPDATE_TIMEOUT_MS = 5_000;
const CLAIMS_UPDATE_ATTEMPTS = 3;

/**
 * Pure: the only subjects an agent may use. It says hello, heartbeats and publishes events under its own name,
 * receives orders for its own name, and gets replies (to its hello and its JetStream publishes) on its own inbox
 * prefix, so it needs no `_INBOX.>` and cannot read other clients' replies. One response per order received lets it
 * answer dispatch requests and nothing else; a ttl of 0 is the server's default window (2 minutes).
 */
export function agentPermissions(node: string, subjectPrefix: string): AgentPermissions {
  const s = subjects(subjectPrefix);
  return {
    pub: { allow: [s.hello, s.heartbeat(node), `${subjectPrefix}.events.*.${node}`] },
    sub: { allow: [`${subjectPrefix}.node.${node}.>`, `${s.agentInbox(node)}.>`] },
    resp: { max: 1, ttl: 0 },
  };
}

/** Account limits with everything unlimited; with JetStream enabled (unlimited storage, streams, consumers) or not. */
export function unlimitedAccountLimits(hasJetStream: boolean): OperatorLimits {
  const nats = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
  if (!hasJetStream) return nats;
  return { ...nats, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
}

/**
 * The key pair of a seed, checked to be of the expected kind ('SA' account, 'SO' operator, 'SU' user). The error
 * names what was expected and never repeats the seed.
 */
export function seedKeyPair(seed: string, kind: 'A' | 'O' | 'U', what: string): KeyPair {
  if (!new RegExp(`^S${kind}[A-Z2-7]{56}$`).test(seed)) throw new Error(`${what} is not an S${kind}... seed`);
  let kp: KeyPair;
  try {
    kp = fromSeed(new TextEncoder().encode(seed));
  } catch {
    throw new Error(`${what} is not a valid NKey seed (bad checksum)`);
  }
  // nkeys derives the public key and signs in pure JavaScript at every call (~100 ms on a loaded machine, which
  // 200 agents enrolling at once would queue behind): derive once, sign with node:crypto.
  const signer = new IdentitySigner(seed);
  kp.getPublicKey = () => signer.publicKey;
  kp.sign = (input: Uint8Array) => Buffer.from(signer.sign(input), 'base64');
  return kp;
}

/** Checks a public key ('U...', 'A...') and returns it. */
export function checkPublicKey(key: string, kind: 'U' | 'A', what: string): string {
  const isOfKind = new RegExp(`^${kind}[A-Z2-7]{55}$`).test(key);
  try {
    if (isOfKind && fromPublic(key).getPublicKey() === key) return key;
  } catch {
    // reported below
  }
  throw new Error(`${what} is not a ${kind}... NKey public key`);
}

/**
 * A user JWT of `account` signed by one of its signing keys (`issuer_account` names the account), with the given
 * permissions (none given: every subject of the account) and an optional expiry in unix seconds.
 */
export function encodeAccountUserJwt(u: {
  name: string;
  userPublicKey: string;
  accountPublicKey: string;
  accountSigningKey: KeyPair;
  permissions?: AgentPermissions;
  expiresAtSec?: number;
}): Promise<string> {
  const user: Partial<User> = u.permissions ? { ...u.permissions } : {};
  return encodeUser(u.name, u.userPublicKey, u.accountPublicKey, user, {
    signer: u.accountSigningKey,
    ...(u.expiresAtSec === undefined ? {} : { exp: u.expiresAtSec }),
  });
}

/**
 * The base account JWT re-issued with exactly these revocations (user public key -> unix seconds: the server refuses
 * that user's JWTs issued at or before then), signed by `operatorSigningKey`; everything else kept as it was.
 */
export function accountJwtWithRevocations(
  baseJwt: string,
  revocations: Record<string, number>,
  operatorSigningKey: KeyPair,
): Promise<string> {
  const base = decodeAccountJwt(baseJwt);
  const nats: Partial<Account> = { ...base.nats };
  delete nats.revocations;
  if (Object.keys(revocations).length > 0) nats.revocations = { ...revocations };
  // encode() sets a fresh iss, iat and jti; the servers keep the newest account JWT by iat.
  const claim: ClaimsData<Account> = { ...base, nats, iss: '', iat: 0, jti: '' };
  return encode(Algorithms.v2, claim, operatorSigningKey);
}

/** Decodes (and checks the signature of) an account JWT. */
export function decodeAccountJwt(accountJwt: string): ClaimsData<Account> {
  let claims: ClaimsData<Account>;
  try {
    claims = decode<Account>(accountJwt);
  } catch (err) {
    throw new Error(`the account JWT cannot be read: ${(err as Error).message}`);
  }
  if (claims.nats.type !== 'account') throw new Error(`the account JWT is a ${claims.nats.type ?? 'untyped'} JWT, not an account's`);
  return claims;
}

export class NatsAuthority {
  private readonly accountSigningKey: KeyPair;
  private readonly accountPublicKey: string;
  private readonly operatorSigningKey?: KeyPair;
  private system?: Promise<NatsConnection>;

  constructor(private readonly options: NatsAuthorityOptions) {
    this.accountSigningKey = seedKeyPair(options.accountSigningSeed, 'A', 'the account signing seed');
    const account = decodeAccountJwt(options.accountJwt);
    this.accountPublicKey = account.sub;
    const signingPublicKey = this.accountSigningKey.getPublicKey();
    const isListed = (account.nats.signing_keys ?? []).some((k) => (typeof k === 'string' ? k : k.key) === signingPublicKey);
    if (!isListed) {
      throw new Error(`the account signing key ${signingPublicKey} is not among the signing keys of account ${account.sub}`);
    }
    if (options.operatorSigningSeed) {
      this.operatorSigningKey = seedKeyPair(options.operatorSigningSeed, 'O', 'the operator signing seed');
      // nats-server 2.9 stores an account JWT pushed with a key its operator does not trust (it answers "jwt updated")
      // and then refuses every connection to the account. The key that signed the account JWT the servers were given
      // is known to be trusted: only that one may re-sign it.
      const operatorPublicKey = this.operatorSigningKey.getPublicKey();
      if (account.iss !== operatorPublicKey) {
        throw new Error(
          `the operator signing key ${operatorPublicKey} did not sign the account JWT (${account.iss} did): ` +
            'revocations signed with it could lock the account',
        );
      }
    }
  }

  /** The account ('A...') whose users the agents are. */
  get account(): string {
    return this.accountPublicKey;
  }

  /**
   * A user JWT for one agent: subject = the agent's own NKey public key, issuer_account = the account, signed by the
   * account signing key, expiring after ttlMs (rounded down to the second); permissions from agentPermissions.
   */
  async issueAgentJwt(a: {
    userPublicKey: string;
    node: string;
    subjectPrefix: string;
    ttlMs: number;
    now?: number;
  }): Promise<{ jwt: string; expiresAt: Date }> {
    checkPublicKey(a.userPublicKey, 'U', "the agent's key");
    if (!NODE_NAME_PATTERN.test(a.node)) throw new Error(`node name ${JSON.stringify(a.node)} cannot be a subject token`);
    if (!(a.ttlMs >= 1000)) throw new Error(`credentials must live at least 1 s (ttlMs ${a.ttlMs})`);
    const expiresAtSec = Math.floor(((a.now ?? Date.now()) + a.ttlMs) / 1000);
    const jwt = await encodeAccountUserJwt({
      name: `baton-agent-${a.node}`,
      userPublicKey: a.userPublicKey,
      accountPublicKey: this.accountPublicKey,
      accountSigningKey: this.accountSigningKey,
      permissions: agentPermissions(a.node, a.subjectPrefix),
      expiresAtSec,
    });
    return { jwt, expiresAt: new Date(expiresAtSec * 1000) };
  }

  /**
   * Re-issues the account JWT with exactly these revocations, signed by the operator signing key, and pushes it to the
   * servers through the system account, waiting for the answer. The servers then refuse the revoked users' JWTs
   * issued at or before revokedAt and close their live connections.
   */
  async pushRevocations(revoked: { userPublicKey: string; revokedAt: Date }[]): Promise<void> {
    if (!this.operatorSigningKey || !this.options.systemCreds) {
      throw new Error(
        'cannot revoke NATS credentials: the operator signing key and the system account creds are needed ' +
          '(BATON_NATS_OPERATOR_SIGNING_SEED and BATON_NATS_SYSTEM_CREDS, written by npm run nats:setup)',
      );
    }
    const revocations: Record<string, number> = {};
    for (const r of revoked) {
      checkPublicKey(r.userPublicKey, 'U', 'a revoked key');
      if (!Number.isFinite(r.revokedAt.getTime())) throw new Error(`revocation of ${r.userPublicKey}: revokedAt is not a date`);
      revocations[r.userPublicKey] = Math.floor(r.revokedAt.getTime() / 1000);
    }
    const accountJwt = await accountJwtWithRevocations(this.options.accountJwt, revocations, this.operatorSigningKey);
    checkClaimsUpdateAnswer(await this.requestClaimsUpdate(accountJwt), this.accountPublicKey);
  }

  async close(): Promise<void> {
    const system = this.system;
    this.system = undefined;
    if (!system) return;
    const nc = await system.catch(() => undefined);
    if (nc && !nc.isClosed()) await nc.close();
  }

  private async requestClaimsUpdate(accountJwt: string): Promise<unknown> {
    const nc = await this.systemConnection();
    for (let attempt = 1; ; attempt++) {
      try {
        return (await nc.request(CLAIMS_UPDATE_SUBJECT, accountJwt, { timeout: CLAIMS_UPDATE_TIMEOUT_MS })).json();
      } catch (err) {
        // A request sent while the client reconnects (a server restarted) can go unanswered; the same update again is
        // harmless. No responders means no full resolver hears this account: asking again will not help.
        if (err instanceof TimeoutError && attempt < CLAIMS_UPDATE_ATTEMPTS) continue;
        throw new Error(
          `NATS did not answer the account update (are these system account creds, and is the resolver of type full?): ${(err as Error).message}`,
        );
      }
    }
  }

  private systemConnection(): Promise<NatsConnection> {
    this.system ??= connect({
      servers: this.options.natsUrl,
      name: 'baton-portal-authority',
      authenticator: credsAuthenticator(this.options.systemCreds!),
    }).catch((err: Error) => {
      this.system = undefined;
      throw new Error(`cannot connect to NATS with the system account creds: ${err.message}`);
    });
    return this.system;
  }
}

/**
 * Throws unless a server's answer on the claims update subject says the account JWT was stored:
 * `{"data":{"account":..,"code":200,"message":"jwt updated"}}`, or `{"error":{..,"description":..}}` when refused.
 */
export function checkClaimsUpdateAnswer(answer: unknown, account: string): void {
  const a = (answer ?? {}) as { data?: { code?: number }; error?: { description?: string } };
  if (a.error) throw new Error(`NATS refused the account update of ${account}: ${a.error.description ?? 'no reason given'}`);
  if (a.data?.code !== 200) throw new Error(`NATS answered the account update of ${account} unexpectedly: ${JSON.stringify(answer)}`);
}
