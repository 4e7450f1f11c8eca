/** Sign-in: Passport local login (argon2) and OpenID Connect single sign-on issuing JWT bearer tokens, and the global deny-by-default guard. */
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BATON_CONFIG } from '../core/config';
import { SettingsService } from '../core/settings.service';
import { AuthController } from './auth.controller';
import { JwtAuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { JWT_SECRET } from './jwt-secret';
import { JwtStrategy } from './jwt.strategy';
import { LocalStrategy } from './local.strategy';
import { OidcController } from './oidc/oidc.controller';
import { OidcService } from './oidc/oidc.service';
import { User } from './user.entity';

const jwtSecretProvider = {
  provide: JWT_SECRET,
  inject: [BATON_CONFIG, SettingsService],
  useFactory: JWT_SECRET.load,
};

@Module({
  imports: [TypeOrmModule.forFeature([User]), PassportModule, JwtModule.register({})],
  controllers: [AuthController, OidcController],
  providers: [jwtSecretProvider, AuthService, OidcService, LocalStrategy, JwtStrategy, { provide: APP_GUARD, useClass: JwtAuthGuard }],
})
export class AuthModule {}
