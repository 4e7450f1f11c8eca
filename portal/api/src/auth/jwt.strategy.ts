import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { Principal } from './auth.service';
import { JWT_SECRET } from './jwt-secret';

interface TokenClaims {
  sub: string;
  roles: Principal['roles'];
}

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(secret: JWT_SECRET) {
    super({
      // Browsers' EventSource cannot set headers, so the live log stream may pass the token as ?access_token=.
      jwtFromRequest: ExtractJwt.fromExtractors([
        ExtractJwt.fromAuthHeaderAsBearerToken(),
        ExtractJwt.fromUrlQueryParameter('access_token'),
      ]),
      secretOrKey: secret.value,
      ignoreExpiration: false,
    });
  }

  validate(claims: TokenClaims): Principal {
    return { username: claims.sub, roles: claims.roles };
  }
}
