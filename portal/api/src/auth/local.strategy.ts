import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { AuthService, Principal } from './auth.service';

@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy) {
  constructor(private readonly auth: AuthService) {
    super();
  }

  async validate(username: string, password: string): Promise<Principal> {
    const principal = await this.auth.validatePassword(username, password);
    if (!principal) throw new UnauthorizedException('wrong username or password');
    return principal;
  }
}
