/**
 * Single sign-on routes: which sign-in methods the portal offers, the redirect to the identity provider, and the
 * callback that ends in the portal's UI with an access token in the URL fragment (never sent to a server or logged).
 */
import { Controller, Get, HttpException, Inject, Req, Res, UseFilters } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuditService } from '../../audit/audit.service';
import { BATON_CONFIG, type BatonConfig } from '../../core/config';
import { Public } from '../../core/public.decorator';
import { OidcErrorPageFilter } from './oidc-error-page.filter';
import { OIDC_LOGIN_PATH, OidcService } from './oidc.service';
import { readCookie } from './pending-login';

const PENDING_LOGIN_COOKIE = 'baton_oidc_login';

export interface SignInProviders {
  local: boolean;
  oidc: { enabled: boolean; loginUrl: string | null };
}

@ApiTags('auth')
@Controller('api/v1/auth')
export class OidcController {
  /** Path and Secure flag of the pending-login cookie: only the two sign-on routes, as the browser sees them. */
  private readonly cookiePath: string;
  private readonly isCookieSecure: boolean;

  constructor(
    private readonly oidc: OidcService,
    private readonly audit: AuditService,
    @Inject(BATON_CONFIG) config: BatonConfig,
  ) {
    this.cookiePath = config.oidc ? new URL('.', config.oidc.redirectUrl).pathname : '/';
    this.isCookieSecure = config.oidc?.redirectUrl.protocol === 'https:';
  }

  /** Lets the UI decide whether to show a single sign-on button. */
  @Public()
  @Get('providers')
  providers(): SignInProviders {
    return { local: true, oidc: { enabled: this.oidc.isEnabled, loginUrl: this.oidc.isEnabled ? OIDC_LOGIN_PATH : null } };
  }

  @Public()
  @UseFilters(OidcErrorPageFilter)
  @Get('oidc/login')
  async login(@Res() res: Response): Promise<void> {
    const started = await this.oidc.startLogin();
    res.cookie(PENDING_LOGIN_COOKIE, started.sealedLogin, { ...this.cookieOptions(), maxAge: started.maxAgeMs });
    res.redirect(302, started.authorizationUrl.href);
  }

  @Public()
  @UseFilters(OidcErrorPageFilter)
  @Get('oidc/callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const sealedLogin = readCookie(req.headers.cookie, PENDING_LOGIN_COOKIE);
    // The pending login is good for one answer, whatever the outcome.
    if (sealedLogin !== undefined) res.clearCookie(PENDING_LOGIN_COOKIE, this.cookieOptions());
    const query = new URL(req.originalUrl, 'http://callback').searchParams;
    // A GET, so the audit interceptor (which records changes) does not see it: sign-ins are recorded here.
    const finished = await this.oidc.finishLogin(query, sealedLogin).catch(async (err: unknown) => {
      const status = err instanceof HttpException ? err.getStatus() : 500;
      const error = err instanceof Error ? err.message : String(err);
      await this.audit.record({
        actor: { type: 'anonymous', name: 'sso' },
        action: 'auth.sso',
        details: { status, error },
        source: req.ip,
      });
      throw err;
    });
    await this.audit.record({
      actor: { type: 'user', name: finished.principal.username },
      action: 'auth.sso',
      target: `user:${finished.principal.username}`,
      details: { status: 302, roles: finished.principal.roles },
      source: req.ip,
    });
    res.setHeader('cache-control', 'no-store');
    res.redirect(302, finished.redirectTo);
  }

  private cookieOptions() {
    // Lax: the callback is a top-level navigation coming from the provider's site, which must carry the cookie.
    return { httpOnly: true, sameSite: 'lax' as const, secure: this.isCookieSecure, path: this.cookiePath };
  }
}
