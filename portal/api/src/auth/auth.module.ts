/**
 * Identity and access: password login (argon2, throttled), OpenID Connect single sign-on, JWT sessions with refresh
 * tokens, API tokens, users, and the global deny-by-default guard that checks every route's declared permission.
 */
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BATON_CONFIG } from '../core/config';
import { SettingsService } from '../core/settings.service';
import { ApiTokenStrategy } from './api-token.strategy';
import { ApiTokensService } from './api-tokens.service';
import { AuthController } from './auth.controller';
import { AccessGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { JWT_SECRET } from './jwt-secret';
import { JwtStrategy } from './jwt.strategy';
import { LocalStrategy } from './local.strategy';
import { ApiToken, LoginFailure, RefreshToken } from './token.entity';
import { OidcController } from './oidc/oidc.controller';
import { OidcService } from './oidc/oidc.service';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

const jwtSecretProvider = {
  provide: JWT_SECRET,
  inject: [BATON_CONFIG, SettingsService],
  useFactory: JWT_SECRET.load,
};

@Module({
  imports: [TypeOrmModule.forFeature([User, ApiToken, RefreshToken, LoginFailure]), PassportModule, JwtModule.register({})],
  controllers: [AuthController, UsersController, OidcController],
  providers: [
    jwtSecretProvider,
    AuthService,
    ApiTokensService,
    OidcService,
    UsersService,
    LocalStrategy,
    JwtStrategy,
    ApiTokenStrategy,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [AuthService],
})
export class AuthModule {}
