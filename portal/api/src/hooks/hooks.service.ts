/**
 * Hooks and their deliveries: creating a hook (its token or HMAC key shown once), checking a delivery's credentials,
 * storing every accepted delivery before it is answered, and listing deliveries with what each caused.
 */
import { ConflictException, Inject, Injectable, NotFoundException, OnModuleInit, UnauthorizedException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DataSource, Repository } from 'typeorm';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { loadMasterKey } from '../secrets/master-key';
import { SecretCipher } from '../secrets/secret-cipher';
import { Hook, HookDelivery, HookType } from './hook.entity';

export interface HookSummary {
  name: string;
  type: HookType;
  alertsPath: string | null;
  createdBy: string;
  createdAt: Date;
  /** Where monitoring posts to. */
  url: string;
}

export interface CreatedHook extends HookSummary {
  /** Alertmanager: the bearer token; generic: the HMAC key. Shown only in this answer. */
  token: string;
}

export const DEFAULT_ALERTS_PATH = '$.alerts';
const REFUSED = 'missing or wrong credentials for this hook';

@Injectable()
export class HooksService implements OnModuleInit {
  private cipher!: SecretCipher;

  constructor(
    @InjectRepository(Hook) private readonly hooks: Repository<Hook>,
    @InjectRepository(HookDelivery) private readonly deliveries: Repository<HookDelivery>,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  onModuleInit(): void {
    // The secrets module's key and cipher; the key's file (when no BATON_MASTER_KEY) is shared, never regenerated.
    this.cipher = new SecretCipher(loadMasterKey(this.config).key);
  }

  async create(name: string, type: HookType, alertsPath: string | undefined, createdBy: string): Promise<CreatedHook> {
    if (await this.hooks.existsBy({ name }))
      throw new ConflictException(`hook "${name}" already exists; delete it first to get a new token`);
    const token = `bh_${randomBytes(32).toString('base64url')}`;
    const row: Partial<Hook> = { name, type, createdBy, createdAt: new Date(), alertsPath: null, tokenHash: null };
    if (type === 'alertmanager') {
      row.tokenHash = sha256(token);
    } else {
      const sealed = this.cipher.seal(aadOf(name), token);
      Object.assign(row, {
        secretCiphertext: sealed.ciphertext,
        secretIv: sealed.iv,
        secretAuthTag: sealed.authTag,
        keyId: sealed.keyId,
        alertsPath: alertsPath ?? DEFAULT_ALERTS_PATH,
      });
    }
    const saved = await this.hooks.save(this.hooks.create(row));
    return { ...summary(saved), token };
  }

  async list(): Promise<HookSummary[]> {
    return (await this.hooks.find({ order: { name: 'ASC' } })).map(summary);
  }

  async get(name: string): Promise<Hook> {
    const hook = await this.hooks.findOneBy({ name });
    if (!hook) throw new NotFoundException(`hook "${name}" not found`);
    return hook;
  }

  /** Deletes the hook and its deliveries; its token stops working at once. */
  async remove(name: string): Promise<void> {
    const result = await this.hooks.delete({ name });
    if (!result.affected) throw new NotFoundException(`hook "${name}" not found`);
  }

  /** The Alertmanager hook whose token this is; 401 for an unknown hook, a generic hook, or a wrong token. */
  async authenticateBearer(name: string, authorization: string | undefined): Promise<Hook> {
    const hook = await this.hooks.findOneBy({ name, type: 'alertmanager' });
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    // Compare hashes of equal length; an unknown hook is compared too, so timing does not tell whether it exists.
    const expected = Buffer.from(hook?.tokenHash ?? sha256('no such hook'), 'hex');
    const given = Buffer.from(sha256(token ?? ''), 'hex');
    if (!hook || !token || !timingSafeEqual(expected, given)) throw new UnauthorizedException(REFUSED);
    return hook;
  }

  /** The generic hook whose key signed this exact body (`X-Baton-Signature: sha256=<hex>`); 401 otherwise. */
  async authenticateSignature(name: string, signature: string | undefined, rawBody: Buffer | undefined): Promise<Hook> {
    const hook = await this.hooks.findOneBy({ name, type: 'generic' });
    const given = /^sha256=([0-9a-fA-F]{64})$/.exec(signature?.trim() ?? '')?.[1];
    if (!hook || !given || !rawBody) throw new UnauthorizedException(REFUSED);
    const key = this.cipher.open(aadOf(name), {
      ciphertext: hook.secretCiphertext!,
      iv: hook.secretIv!,
      authTag: hook.secretAuthTag!,
      keyId: hook.keyId!,
    });
    const expected = createHmac('sha256', key).update(rawBody).digest();
    if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) throw new UnauthorizedException(REFUSED);
    return hook;
  }

  /** Stores a delivery as received; it is processed later by the delivery worker of some replica. */
  async storeDelivery(hook: string, payload: unknown, source: string | undefined): Promise<string> {
    const [row]: { id: string }[] = await this.db.query(
      `INSERT INTO hook_deliveries (hook, payload, source) VALUES ($1, $2::jsonb, $3) RETURNING id`,
      [hook, JSON.stringify(payload), source ?? null],
    );
    return String(row.id);
  }

  async listDeliveries(hook: string, limit: number): Promise<HookDelivery[]> {
    await this.get(hook);
    return this.deliveries.find({ where: { hook }, order: { id: 'DESC' }, take: limit });
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Bound into the ciphertext, so a key copied onto another hook (or into a secret row) does not decrypt. */
function aadOf(name: string): string {
  return `hook:${name}`;
}

function summary(hook: Hook): HookSummary {
  return {
    name: hook.name,
    type: hook.type,
    alertsPath: hook.alertsPath,
    createdBy: hook.createdBy,
    createdAt: hook.createdAt,
    url: `/api/v1/hooks/${hook.type}/${hook.name}`,
  };
}
