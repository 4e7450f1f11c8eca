/**
 * Stored secrets: setting, listing and deleting them (values encrypted at rest, never returned), looking values
 * up for dispatch, and masking them. The service keeps the decrypted values in memory so that `mask()` is cheap;
 * the cache is reloaded after each change here and every RELOAD_MS for changes made through other replicas.
 * Lookups for dispatch (`resolve`) always read the database, so a run never uses a stale value.
 */
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { maskText, secretNameSchema, type ParamValue } from '@baton/shared';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { loadMasterKey } from './master-key';
import { SecretCipher } from './secret-cipher';
import { Secret } from './secret.entity';
import { AuditService } from '../audit/audit.service';

export interface SecretSummary {
  name: string;
  setBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const RELOAD_MS = 30_000;

@Injectable()
export class SecretsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SecretsService.name);
  private cipher!: SecretCipher;
  private values = new Map<string, string>();
  /** Secret parameter values of executions running from this process: masked too, forgotten when they end. */
  private readonly executionValues = new Map<string, string[]>();
  private reloadTimer?: NodeJS.Timeout;

  constructor(
    @InjectRepository(Secret) private readonly secrets: Repository<Secret>,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
    private readonly audit: AuditService,
  ) {}

  async onModuleInit(): Promise<void> {
    // Audit details are stored as JSON text: a value with quotes or backslashes appears there escaped.
    this.audit.addRedactor((text) => this.mask(text, { isJson: true }));
    const master = loadMasterKey(this.config);
    if (master.isGenerated) {
      this.logger.warn(
        { file: master.source },
        'generated a master key for secrets; in production set BATON_MASTER_KEY (the same on every replica) and keep it out of backups of the data directory',
      );
    } else if (master.source !== 'BATON_MASTER_KEY') {
      this.logger.warn({ file: master.source }, 'secrets are encrypted with a key file; in production set BATON_MASTER_KEY');
    }
    this.cipher = new SecretCipher(master.key);
    await this.reload();
    this.reloadTimer = setInterval(
      () => void this.reload().catch((err) => this.logger.error({ err }, 'reloading secrets failed')),
      RELOAD_MS,
    );
    this.reloadTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.reloadTimer);
  }

  /** Creates or replaces a secret; returns its summary (never the value). */
  async put(name: string, value: string, setBy: string): Promise<SecretSummary> {
    checkName(name);
    const sealed = this.cipher.seal(name, value);
    await this.secrets.query(
      `INSERT INTO secrets (name, ciphertext, iv, auth_tag, key_id, set_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, now(), now())
       ON CONFLICT (name) DO UPDATE SET ciphertext = $2, iv = $3, auth_tag = $4, key_id = $5, set_by = $6, updated_at = now()`,
      [name, sealed.ciphertext, sealed.iv, sealed.authTag, sealed.keyId, setBy],
    );
    this.values.set(name, value);
    return summary(await this.secrets.findOneByOrFail({ name }));
  }

  async list(): Promise<SecretSummary[]> {
    return (await this.secrets.find({ order: { name: 'ASC' } })).map(summary);
  }

  async remove(name: string): Promise<void> {
    const result = await this.secrets.delete({ name });
    if (!result.affected) throw new NotFoundException(`secret "${name}" not found`);
    // The value stays masked until the next reload: runs still going may have it and print it.
  }

  /** The values of the named secrets, read from the database; names that do not exist are absent from the map. */
  async resolve(names: Iterable<string>): Promise<Map<string, string>> {
    const wanted = [...new Set(names)];
    if (wanted.length === 0) return new Map();
    const rows = await this.secrets.findBy({ name: In(wanted) });
    return new Map(rows.map((row) => [row.name, this.open(row)]));
  }

  /**
   * `text` with the value of every known secret replaced by `***`: stored secrets and the secret parameters of
   * executions started by this process. For stored logs, error messages and audit records.
   */
  mask(text: string, { isJson = false } = {}): string {
    if (this.values.size === 0 && this.executionValues.size === 0) return text;
    const values = [...this.values.values(), ...[...this.executionValues.values()].flat()];
    return maskText(text, isJson ? values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]) : values);
  }

  /**
   * The parameters of a queued execution, encrypted with the master key (bound to the execution by the AAD), so that
   * whichever replica starts it, also after a restart, has the caller's values without them being stored in clear.
   */
  sealParams(executionId: string, params: Record<string, ParamValue>): string {
    const sealed = this.cipher.seal(`execution:${executionId}`, JSON.stringify(params));
    return JSON.stringify({
      keyId: sealed.keyId,
      iv: sealed.iv.toString('base64'),
      ciphertext: sealed.ciphertext.toString('base64'),
      authTag: sealed.authTag.toString('base64'),
    });
  }

  openParams(executionId: string, text: string): Record<string, ParamValue> {
    const raw = JSON.parse(text) as { keyId: string; iv: string; ciphertext: string; authTag: string };
    const sealed = {
      keyId: raw.keyId,
      iv: Buffer.from(raw.iv, 'base64'),
      ciphertext: Buffer.from(raw.ciphertext, 'base64'),
      authTag: Buffer.from(raw.authTag, 'base64'),
    };
    return JSON.parse(this.cipher.open(`execution:${executionId}`, sealed)) as Record<string, ParamValue>;
  }

  /** Masks these values (secret parameters given by a caller, never stored) until `forgetExecution`. */
  maskForExecution(executionId: string, values: string[]): void {
    if (values.length > 0) this.executionValues.set(executionId, values);
  }

  forgetExecution(executionId: string): void {
    this.executionValues.delete(executionId);
  }

  /** A row the current key cannot open is a state an admin must fix (set the secret again): 409, not a 500. */
  private open(row: Secret): string {
    try {
      return this.cipher.open(row.name, row);
    } catch (err) {
      throw new ConflictException(`${err instanceof Error ? err.message : String(err)}; an admin must set it again`);
    }
  }

  private async reload(): Promise<void> {
    const values = new Map<string, string>();
    for (const row of await this.secrets.find()) {
      try {
        values.set(row.name, this.cipher.open(row.name, row));
      } catch (err) {
        this.logger.error({ secret: row.name, err: String(err) }, 'secret cannot be decrypted and will not be masked or usable');
      }
    }
    this.values = values;
  }
}

function checkName(name: string): void {
  const check = secretNameSchema.safeParse(name);
  if (!check.success) throw new BadRequestException({ message: `name: ${check.error.issues[0].message}`, details: [{ field: 'name' }] });
}

function summary(row: Secret): SecretSummary {
  return { name: row.name, setBy: row.setBy, createdAt: row.createdAt, updatedAt: row.updatedAt };
}
