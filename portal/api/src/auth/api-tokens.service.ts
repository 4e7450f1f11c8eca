/**
 * API tokens for scripts: `bt_<id>_<secret>`, shown once at creation and stored as a hash. A token acts with its
 * user's roles or fewer (never more, even if the user later loses some), until it expires or is revoked.
 */
import { BadRequestException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { Repository } from 'typeorm';
import { ApiToken } from './token.entity';
import { User } from './user.entity';
import { isAdmin, isSubsetOf, Principal, RoleGrant } from './permissions';
import { isSameHash, sha256 } from './auth.service';

const TOKEN_FORMAT = /^bt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** `last_used_at` is informative: writing it at most this often keeps a busy script from costing a write per call. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface NewApiToken {
  name: string;
  expiresAt?: Date;
  roles?: RoleGrant[];
}

export function isApiToken(bearer: string): boolean {
  return bearer.startsWith('bt_');
}

@Injectable()
export class ApiTokensService {
  constructor(
    @InjectRepository(ApiToken) private readonly tokens: Repository<ApiToken>,
    @InjectRepository(User) private readonly users: Repository<User>,
  ) {}

  /** Creates a token for the caller; the returned `token` is the only time its secret exists outside the caller's hands. */
  async create(owner: Principal, spec: NewApiToken): Promise<{ token: string; record: ApiToken }> {
    if (spec.expiresAt && spec.expiresAt.getTime() <= Date.now()) throw new BadRequestException('expiresAt: must be in the future');
    if (spec.roles && !isSubsetOf(spec.roles, owner.roles)) {
      throw new ForbiddenException('roles: a token may have your roles or fewer, not more');
    }
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const record = this.tokens.create({
      id,
      name: spec.name,
      username: owner.username,
      secretHash: sha256(secret),
      roles: spec.roles ?? null,
      expiresAt: spec.expiresAt ?? null,
      lastUsedAt: null,
      revokedAt: null,
    });
    await this.tokens.insert(record);
    return { token: `bt_${id}_${secret}`, record };
  }

  /** The caller's tokens; admins may list everyone's. */
  list(caller: Principal, everyone: boolean): Promise<ApiToken[]> {
    const where = everyone && isAdmin(caller) ? {} : { username: caller.username };
    return this.tokens.find({ where, order: { createdAt: 'DESC' } });
  }

  /** Revokes a token of the caller (any token for an admin); a token of someone else is 404 to others. */
  async revoke(caller: Principal, id: string): Promise<ApiToken> {
    const token = await this.tokens.findOneBy({ id });
    if (!token || (token.username !== caller.username && !isAdmin(caller))) throw new NotFoundException(`API token "${id}" not found`);
    if (!token.revokedAt) {
      token.revokedAt = new Date();
      await this.tokens.update({ id }, { revokedAt: token.revokedAt });
    }
    return token;
  }

  /** The principal a presented token acts as, or null when it is unknown, wrong, expired or revoked. */
  async authenticate(presented: string): Promise<Principal | null> {
    const match = TOKEN_FORMAT.exec(presented);
    if (!match) return null;
    const [, id, secret] = match;
    const token = await this.tokens.findOneBy({ id });
    if (!token || !isSameHash(token.secretHash, sha256(secret))) return null;
    if (token.revokedAt || (token.expiresAt && token.expiresAt.getTime() <= Date.now())) return null;
    const user = await this.users.findOneBy({ username: token.username });
    if (!user) return null;
    // The token's own roles, cut down to what its user still holds.
    const roles = token.roles ? token.roles.filter((grant) => isSubsetOf([grant], user.roles)) : user.roles;
    if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.tokens.update({ id }, { lastUsedAt: new Date() });
    }
    return { username: user.username, roles, tokenId: id };
  }
}
