import { Injectable } from '@nestjs/common';
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

  validate(req: Request, username: string, password: string): Promise<Principal> {
    return this.auth.login(username, password, req.ip ?? 'unknown');
  }
}
