/** The people who may sign in, and their role grants. Administered by admins; the last admin cannot be removed. */
import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import * as argon2 from 'argon2';
import { Repository } from 'typeorm';
import { AuthService } from './auth.service';
import type { RoleGrant } from './permissions';
import { User } from './user.entity';

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly auth: AuthService,
  ) {}

  list(): Promise<User[]> {
    return this.users.find({ order: { username: 'ASC' } });
  }

  async get(username: string): Promise<User> {
    const user = await this.users.findOneBy({ username });
    if (!user) throw new NotFoundException(`user "${username}" not found`);
    return user;
  }

  async create(username: string, password: string, roles: RoleGrant[]): Promise<User> {
    const user = this.users.create({ username, passwordHash: await argon2.hash(password), roles: normalise(roles), source: 'local' });
    const inserted = await this.users.createQueryBuilder().insert().values(user).orIgnore().returning('username').execute();
    if ((inserted.raw as unknown[]).length === 0) throw new ConflictException(`user "${username}" already exists`);
    return this.get(username);
  }

  /** A new password or new roles end the user's sessions, so nobody keeps what was taken away beyond one access token's life. */
  async update(username: string, change: { password?: string; roles?: RoleGrant[] }): Promise<User> {
    const user = await this.get(username);
    if (change.password !== undefined) {
      if (user.source !== 'local')
        throw new BadRequestException(`password: user "${username}" signs in through single sign-on and has none`);
      user.passwordHash = await argon2.hash(change.password);
    }
    if (change.roles !== undefined) {
      if (isGlobalAdmin(user.roles) && !isGlobalAdmin(change.roles)) await this.refuseLastAdmin(username);
      user.roles = normalise(change.roles);
    }
    await this.users.save(user);
    await this.auth.revokeSessionsOf(username);
    return user;
  }

  async remove(username: string): Promise<void> {
    const user = await this.get(username);
    if (isGlobalAdmin(user.roles)) await this.refuseLastAdmin(username);
    await this.users.delete({ username }); // API and refresh tokens go with it (foreign keys cascade)
  }

  private async refuseLastAdmin(username: string): Promise<void> {
    const admins = (await this.users.find()).filter((u) => isGlobalAdmin(u.roles) && u.username !== username);
    if (admins.length === 0) throw new ConflictException(`user "${username}" is the last admin; make another admin first`);
  }
}

function isGlobalAdmin(roles: RoleGrant[]): boolean {
  return roles.some((g) => g.role === 'admin' && g.namespace === undefined);
}

/** Plain objects without undefined fields: stored as JSON and compared by value. */
function normalise(roles: RoleGrant[]): RoleGrant[] {
  return roles.map((g) => (g.namespace ? { role: g.role, namespace: g.namespace } : { role: g.role }));
}
