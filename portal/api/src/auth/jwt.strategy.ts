import { Injectable } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
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
      // A KeyObject, not the string: given a string, jsonwebtoken first tries it as a public key and builds the
      // secret key from the exception, at every request (about 2 ms of CPU each on a small machine). jsonwebtoken
      // takes a KeyObject; passport-jwt's types only know strings and buffers.
      secretOrKey: createSecretKey(Buffer.from(secret.value)) as unknown as string,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  validate(claims: TokenClaims): Principal {
    return { username: claims.sub, roles: claims.roles };
  }
}
