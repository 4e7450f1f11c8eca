/**
 * Enrollment tokens: `bte_<id>_<secret>`, shown once at creation and stored as a hash. A token admits up to
 * `maxUses` agents until it expires or is revoked; using one is a single conditional UPDATE, so two agents racing
 * for the last use cannot both win.
 */
import { BadRequestException, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { Repository } from 'typeorm';
import { parseDuration } from '@baton/shared';
import { isSameHash, sha256 } from '../auth/auth.service';
import { rowsOf } from '../core/database/rows';
import type { CreateEnrollmentTokenDto } from './dto/create-enrollment-token.dto';
import { EnrollmentToken } from './fleet.entity';

const TOKEN_FORMAT = /^bte_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const MAX_LIFETIME_MS = 30 * 24 * 3_600_000;
const LABEL_KEY = /^[A-Za-z0-9_./-]{1,63}$/;

export type TokenStatus = 'active' | 'expired' | 'used_up' | 'revoked';

export interface EnrollmentTokenView {
  id: string;
  description: string | null;
  expiresAt: Date;
  maxUses: number;
  uses: number;
  autoAccept: boolean;
  labels: Record<string, string>;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  status: TokenStatus;
}

@Injectable()
export class EnrollmentTokensService {
  constructor(@InjectRepository(EnrollmentToken) private readonly tokens: Repository<EnrollmentToken>) {}

  async create(spec: CreateEnrollmentTokenDto, createdBy: string): Promise<EnrollmentTokenView & { token: string }> {
    const lifetimeMs = parseDuration(spec.expiresIn);
    if (lifetimeMs <= 0 || lifetimeMs > MAX_LIFETIME_MS) throw new BadRequestException('expiresIn must be more than 0 and at most 30d');
    const labels = spec.labels ?? {};
    for (const [key, value] of Object.entries(labels)) {
      if (!LABEL_KEY.test(key))
        throw new BadRequestException(`labels: "${key}" is not a label key (letters, digits, "_", ".", "/" or "-")`);
      if (typeof value !== 'string' || value.length > 253)
        throw new BadRequestException(`labels.${key} must be a string of at most 253 characters`);
    }
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const record = await this.tokens.save(
      this.tokens.create({
        id,
        secretHash: sha256(secret),
        description: spec.description ?? null,
        expiresAt: new Date(Date.now() + lifetimeMs),
        maxUses: spec.maxUses,
        uses: 0,
        autoAccept: spec.autoAccept,
        labels,
        createdBy,
        revokedAt: null,
      }),
    );
    return { ...toView(record), token: `bte_${id}_${secret}` };
  }

  async list(): Promise<EnrollmentTokenView[]> {
    return (await this.tokens.find({ order: { createdAt: 'DESC' } })).map((t) => toView(t));
  }

  async revoke(id: string): Promise<void> {
    const token = await this.tokens.findOneBy({ id });
    if (!token) throw new NotFoundException(`enrollment token ${id} not found`);
    if (!token.revokedAt) await this.tokens.update({ id }, { revokedAt: new Date() });
  }

  /**
   * Takes one use of a token, or says why it cannot be used (401: unknown, revoked, expired, used up).
   * Pass the transaction's repository so that the use is given back when the enrollment fails.
   */
  async use(text: string, tokens: Repository<EnrollmentToken> = this.tokens): Promise<EnrollmentToken> {
    const match = TOKEN_FORMAT.exec(text);
    const record = match ? await tokens.findOneBy({ id: match[1] }) : null;
    if (!match || !record || !isSameHash(record.secretHash, sha256(match[2]))) throw new UnauthorizedException('enrollment token unknown');
    const taken = rowsOf<EnrollmentToken>(
      await tokens.query(
        `UPDATE enrollment_tokens SET uses = uses + 1
          WHERE id = $1 AND revoked_at IS NULL AND expires_at > now() AND uses < max_uses RETURNING id`,
        [record.id],
      ),
    );
    if (taken.length === 1) return record;
    const status = toView(record).status;
    throw new UnauthorizedException(`enrollment token ${status === 'used_up' ? 'used up' : status}`);
  }
}

function toView(t: EnrollmentToken, now = Date.now()): EnrollmentTokenView {
  const { secretHash: _hash, ...rest } = t;
  let status: TokenStatus = 'active';
  if (t.revokedAt) status = 'revoked';
  else if (t.expiresAt.getTime() <= now) status = 'expired';
  else if (t.uses >= t.maxUses) status = 'used_up';
  return { ...rest, status };
}
