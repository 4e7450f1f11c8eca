import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '../core/public.decorator';
import { ApiTokensService } from './api-tokens.service';
import { AuthService, Principal, Session } from './auth.service';
import { LocalAuthGuard } from './auth.guard';
import { CurrentUser } from './current-user.decorator';
import { CreateApiTokenDto, LoginDto, RefreshDto } from './dto/auth.dto';
import { RequirePermission } from './permissions';
import type { ApiToken } from './token.entity';
import { AuditAction } from '../audit/audit-action.decorator';

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly apiTokens: ApiTokensService,
  ) {}

  /** Password login (throttled): a short-lived access token and a refresh token. */
  @Public()
  @UseGuards(LocalAuthGuard)
  @AuditAction('auth.login', { target: (r) => `user:${(r.body as { username?: string } | undefined)?.username ?? '?'}` })
  @Post('login')
  @HttpCode(200)
  login(@Body() _credentials: LoginDto, @Req() req: Request): Promise<Session> {
    return this.auth.startSession(req.user as Principal);
  }

  /** A new session for a refresh token, which is used up by this call. */
  @Public()
  @AuditAction('auth.refresh')
  @Post('refresh')
  @HttpCode(200)
  refresh(@Body() body: RefreshDto): Promise<Session> {
    return this.auth.refresh(body.refreshToken);
  }

  @Public()
  @AuditAction('auth.logout')
  @Post('logout')
  @HttpCode(204)
  async logout(@Body() body: RefreshDto): Promise<void> {
    await this.auth.logout(body.refreshToken);
  }

  @ApiBearerAuth()
  @RequirePermission('self')
  @Get('me')
  me(@CurrentUser() user: Principal): Principal {
    return user;
  }

  /** Creates an API token for scripts; the token is in this response only. */
  @ApiBearerAuth()
  @RequirePermission('self')
  @AuditAction('token.create')
  @Post('tokens')
  async createToken(@Body() body: CreateApiTokenDto, @CurrentUser() user: Principal) {
    const { token, record } = await this.apiTokens.create(user, body);
    return { ...describeToken(record), token };
  }

  @ApiBearerAuth()
  @RequirePermission('self')
  @Get('tokens')
  async listTokens(@CurrentUser() user: Principal, @Query('all') all?: string) {
    return (await this.apiTokens.list(user, all === '1' || all === 'true')).map(describeToken);
  }

  @ApiBearerAuth()
  @RequirePermission('self')
  @AuditAction('token.revoke')
  @Delete('tokens/:id')
  async revokeToken(@Param('id') id: string, @CurrentUser() user: Principal) {
    return describeToken(await this.apiTokens.revoke(user, id));
  }
}

function describeToken(t: ApiToken) {
  return {
    id: t.id,
    name: t.name,
    username: t.username,
    roles: t.roles ?? 'inherited',
    expiresAt: t.expiresAt,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
  };
}
