import { BadRequestException, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-local';
import { AuthService, Principal } from './auth.service';

/** Username and password from the login body; the client address feeds the throttle. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy) {
  constructor(private readonly auth: AuthService) {
    super({ passReqToCallback: true });
  }

  /** The guard runs before the body's DTO is validated, so the types are checked here: passport passes any JSON. */
  validate(req: Request, username: unknown, password: unknown): Promise<Principal> {
    if (typeof username !== 'string' || typeof password !== 'string')
      throw new BadRequestException('username and password must be strings');
    return this.auth.login(username, password, req.ip ?? 'unknown');
  }
}
