/** Users, password checks (argon2) and access tokens; creates the `admin` account on first start. */
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { Repository } from 'typeorm';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { User } from './user.entity';
import type { Principal } from './permissions';
import { JWT_SECRET } from './jwt-secret';
import { parseDuration } from '@baton/shared';

export type { Principal } from './permissions';

@Injectable()
export class AuthService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuthService.name);
  /** Checked against when the user does not exist, so that a wrong username costs as much time as a wrong password. */
  private dummyHash?: Promise<string>;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly jwt: JwtService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
    private readonly jwtSecret: JWT_SECRET,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureAdmin();
  }

  async validatePassword(username: string, password: string): Promise<Principal | null> {
    const user = await this.users.findOneBy({ username });
    if (!user) {
      this.dummyHash ??= argon2.hash(randomBytes(16).toString('hex'));
      await argon2.verify(await this.dummyHash, password);
      return null;
    }
    if (!(await argon2.verify(user.passwordHash, password))) return null;
    return { username: user.username, roles: user.roles };
  }

  async issueAccessToken(principal: Principal): Promise<string> {
    return this.jwt.signAsync(
      { sub: principal.username, roles: principal.roles },
      { secret: this.jwtSecret.value, expiresIn: Math.floor(parseDuration(this.config.jwtTtl) / 1000) },
    );
  }

  private async ensureAdmin(): Promise<void> {
    if ((await this.users.count()) > 0) return;
    const password = this.config.adminPassword ?? randomBytes(12).toString('base64url');
    const inserted = await this.users
      .createQueryBuilder()
      .insert()
      .values({ username: 'admin', passwordHash: await argon2.hash(password), roles: [{ role: 'admin' }] })
      .orIgnore()
      .execute();
    if (inserted.identifiers.length === 0 || this.config.adminPassword) return;
    // Printed once, on purpose, outside the structured log: it is never stored in clear anywhere.
    process.stdout.write(
      `\nBaton: created user "admin" with password: ${password}\n(change it; set BATON_ADMIN_PASSWORD to choose it)\n\n`,
    );
  }
}
