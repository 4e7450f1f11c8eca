import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { ApiTokensService, isApiToken } from './api-tokens.service';
import type { Principal } from './permissions';

/** `Authorization: Bearer bt_...`: a script's API token. Other bearer tokens are left to the JWT strategy. */
@Injectable()
export class ApiTokenStrategy extends PassportStrategy(Strategy, 'api-token') {
  constructor(private readonly tokens: ApiTokensService) {
    super();
  }

  async validate(token: string): Promise<Principal | false> {
    if (!isApiToken(token)) return false;
    return (await this.tokens.authenticate(token)) ?? false;
  }
}
