/**
 * Signing in: password checks (argon2) with throttling, sessions made of a short-lived JWT access token and a
 * rotating refresh token, and the `admin` account created on first start.
 */
import { HttpException, HttpStatus, Inject, Injectable, OnApplicationBootstrap, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import * as argon2 from 'argon2';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { IsNull, MoreThan, Repository } from 'typeorm';
import { parseDuration } from '@baton/shared';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { User } from './user.entity';
import { LoginFailure, RefreshToken } from './token.entity';
import { JWT_SECRET } from './jwt-secret';
import type { Principal } from './permissions';

export type { Principal } from './permissions';

export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires; refresh before then. */
  expiresIn: number;
}

/** After this many failed logins for one user from one address within the window, further attempts get 429. */
export const LOGIN_FAILURE_LIMIT = 5;
export const LOGIN_FAILURE_WINDOW_MS = 15 * 60_000;

@Injectable()
export class AuthService implements OnApplicationBootstrap {
  /** Checked against when the user does not exist, so that a wrong username costs as much time as a wrong password. */
  private dummyHash?: Promise<string>;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(RefreshToken) private readonly refreshTokens: Repository<RefreshToken>,
    @InjectRepository(LoginFailure) private readonly failures: Repository<LoginFailure>,
    private readonly jwt: JwtService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
    private readonly jwtSecret: JWT_SECRET,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureAdmin();
  }

  /**
   * A password login from `source` (the client address). Throttled per user and address: past the limit the
   * attempt is refused with 429 before the password is even checked, so guessing gains nothing.
   */
  async login(username: string, password: string, source: string): Promise<Principal> {
    await this.refuseWhenThrottled(username, source);
    const principal = await this.checkPassword(username, password);
    if (!principal) {
      await this.failures.insert({ username, source });
      throw new UnauthorizedException('wrong username or password');
    }
    await this.failures.delete({ username, source });
    return principal;
  }

  private async refuseWhenThrottled(username: string, source: string): Promise<void> {
    const windowStart = new Date(Date.now() - LOGIN_FAILURE_WINDOW_MS);
    const recent = await this.failures.find({
      where: { username, source, at: MoreThan(windowStart) },
      order: { at: 'DESC' },
      take: LOGIN_FAILURE_LIMIT,
    });
    if (recent.length < LOGIN_FAILURE_LIMIT) return;
    const oldest = recent[recent.length - 1].at.getTime();
    const retryAfterS = Math.max(1, Math.ceil((oldest + LOGIN_FAILURE_WINDOW_MS - Date.now()) / 1000));
    throw new HttpException(
      { message: `too many failed logins for "${username}" from this address; try again in ${retryAfterS} s`, retryAfterS },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }

  private async checkPassword(username: string, password: string): Promise<Principal | null> {
    const user = await this.users.findOneBy({ username });
    // Users from single sign-on have no password hash: nothing typed here can match it.
    if (!user || !user.passwordHash) {
      this.dummyHash ??= argon2.hash(randomBytes(16).toString('hex'));
      await argon2.verify(await this.dummyHash, password);
      return null;
    }
    if (!(await argon2.verify(user.passwordHash, password))) return null;
    return { username: user.username, roles: user.roles };
  }

  /** A new session: an access token and the first refresh token of a new family. */
  async startSession(principal: Principal): Promise<Session> {
    return this.issueSession(principal, randomUUID());
  }

  /**
   * Trades a refresh token for a new session. Each refresh token works once: presenting a used one means it was
   * stolen or replayed, so the whole family is revoked and the user must sign in again. Roles are read afresh,
   * so role changes and deleted users take effect at the next refresh.
   */
  async refresh(presented: string): Promise<Session> {
    const token = await this.findRefreshToken(presented);
    if (!token || token.revokedAt || token.expiresAt.getTime() <= Date.now())
      throw new UnauthorizedException('refresh token is invalid or expired');
    if (token.usedAt) {
      await this.refreshTokens.update({ family: token.family }, { revokedAt: new Date() });
      throw new UnauthorizedException('refresh token was already used; every session from that sign-in is revoked');
    }
    const claimed = await this.refreshTokens.update({ id: token.id, usedAt: IsNull() }, { usedAt: new Date() });
    if (claimed.affected === 0) throw new UnauthorizedException('refresh token was already used');
    const user = await this.users.findOneBy({ username: token.username });
    if (!user) throw new UnauthorizedException(`user "${token.username}" no longer exists`);
    return this.issueSession({ username: user.username, roles: user.roles }, token.family);
  }

  /** Signs out: the refresh token's family can no longer be refreshed. */
  async logout(presented: string): Promise<void> {
    const token = await this.findRefreshToken(presented);
    if (token) await this.refreshTokens.update({ family: token.family }, { revokedAt: new Date() });
  }

  /** Every refresh token of a user stops working (password changed, roles cut, user deleted). */
  async revokeSessionsOf(username: string): Promise<void> {
    await this.refreshTokens.update({ username }, { revokedAt: new Date() });
  }

  private async issueSession(principal: Principal, family: string): Promise<Session> {
    const expiresIn = Math.floor(parseDuration(this.config.jwtTtl) / 1000);
    const accessToken = await this.jwt.signAsync(
      { sub: principal.username, roles: principal.roles },
      { secret: this.jwtSecret.value, expiresIn },
    );
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.refreshTokens.insert({
      id,
      family,
      username: principal.username,
      secretHash: sha256(secret),
      expiresAt: new Date(Date.now() + parseDuration(this.config.refreshTtl)),
    });
    return { accessToken, refreshToken: `${id}.${secret}`, expiresIn };
  }

  private async findRefreshToken(presented: string): Promise<RefreshToken | null> {
    const [id, secret] = presented.split('.');
    if (!id || !secret || !/^[0-9a-f-]{36}$/.test(id)) return null;
    const token = await this.refreshTokens.findOneBy({ id });
    return token && isSameHash(token.secretHash, sha256(secret)) ? token : null;
  }

  private async ensureAdmin(): Promise<void> {
    if ((await this.users.count()) > 0) return;
    const password = this.config.adminPassword ?? randomBytes(12).toString('base64url');
    const inserted = await this.users
      .createQueryBuilder()
      .insert()
      .values({ username: 'admin', passwordHash: await argon2.hash(password), roles: [{ role: 'admin' }], source: 'local' })
      .orIgnore()
      .returning('username')
      .execute();
    // Another replica starting at the same moment may have created it first: only the one that did prints.
    if ((inserted.raw as unknown[]).length === 0 || this.config.adminPassword) return;
    // Printed once, on purpose, outside the structured log: it is never stored in clear anywhere.
    process.stdout.write(
      `\nBaton: created user "admin" with password: ${password}\n(change it; set BATON_ADMIN_PASSWORD to choose it)\n\n`,
    );
  }
}

/** Token secrets are long random strings: a fast hash is enough (a password needs argon2, these do not). */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function isSameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
