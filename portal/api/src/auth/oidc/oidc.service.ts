/**
 * OpenID Connect single sign-on (authorization code flow with PKCE, state and nonce) through openid-client.
 * Owns discovery of the identity provider, the pending sign-in, the callback checks, and turning the provider's
 * claims into a Baton user with roles. Discovery is lazy and retried, so a provider that is down does not stop
 * the portal: sign-in answers 503 until the provider is back.
 */
import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  HttpException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnApplicationBootstrap,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { Repository } from 'typeorm';
import { BATON_CONFIG, OIDC_CALLBACK_PATH, type BatonConfig, type OidcConfig } from '../../core/config';
import { SettingsService } from '../../core/settings.service';
import { AuthService, type Principal, type Session } from '../auth.service';
import type { RoleGrant } from '../permissions';
import { User } from '../user.entity';
import { grantsFromClaims, usernameFromClaims, type Claims } from './oidc-roles';
import { openPendingLogin, sealPendingLogin } from './pending-login';

// openid-client is published as an ES module only; a dynamic import lets our CommonJS build load it (Node 20
// require()s it natively; Jest compiles it, see jest.config.js).
type OpenIdClient = typeof import('openid-client', { with: { 'resolution-mode': 'import' } });
type ClientConfiguration = InstanceType<OpenIdClient['Configuration']>;

export const OIDC_LOGIN_PATH = '/api/v1/auth/oidc/login';
const PENDING_LOGIN_TTL_MS = 10 * 60_000;
const DISCOVERY_TIMEOUT_S = 10;

export interface StartedLogin {
  authorizationUrl: URL;
  /** The sealed pending login, for the cookie. */
  sealedLogin: string;
  maxAgeMs: number;
}

export interface FinishedLogin {
  principal: Principal;
  session: Session;
  /** Where the browser goes next: the portal's UI, with the session's tokens in the fragment. */
  redirectTo: string;
}

@Injectable()
export class OidcService implements OnApplicationBootstrap {
  private readonly logger = new Logger(OidcService.name);
  private readonly oidc?: OidcConfig;
  private openIdClient?: Promise<OpenIdClient>;
  private discovery?: Promise<ClientConfiguration>;
  private sealingKey?: Promise<Buffer>;

  constructor(
    @Inject(BATON_CONFIG) config: BatonConfig,
    private readonly settings: SettingsService,
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly auth: AuthService,
  ) {
    this.oidc = config.oidc;
  }

  get isEnabled(): boolean {
    return this.oidc !== undefined;
  }

  /** Discovers the provider in the background at start: a failure is logged and retried at the next sign-in. */
  onApplicationBootstrap(): void {
    if (!this.oidc) return;
    this.configuration().then(
      () => this.logger.log({ issuer: this.oidc?.issuer.href }, 'single sign-on ready'),
      (err: unknown) => this.logger.warn({ issuer: this.oidc?.issuer.href, err: reason(err) }, 'identity provider not reachable yet'),
    );
  }

  /** Starts a sign-in: where to send the browser, and the pending login to keep in its cookie. */
  async startLogin(nowMs = Date.now()): Promise<StartedLogin> {
    const oidc = this.requireOidc();
    const [openid, configuration] = await Promise.all([this.client(), this.configurationOr503()]);
    const codeVerifier = openid.randomPKCECodeVerifier();
    const pending = { state: openid.randomState(), nonce: openid.randomNonce(), codeVerifier, expiresAtMs: nowMs + PENDING_LOGIN_TTL_MS };
    const authorizationUrl = openid.buildAuthorizationUrl(configuration, {
      redirect_uri: oidc.redirectUrl.href,
      scope: oidc.scopes,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await openid.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { authorizationUrl, sealedLogin: sealPendingLogin(await this.key(), pending), maxAgeMs: PENDING_LOGIN_TTL_MS };
  }

  /**
   * Finishes a sign-in from the provider's answer (the callback's query string) and the pending login from the
   * cookie: checks state, exchanges the code (PKCE), validates the ID token (nonce), reads the claims, maps them
   * to roles, records the user and issues the portal's own access token.
   */
  async finishLogin(callbackQuery: URLSearchParams, sealedLogin: string | undefined, nowMs = Date.now()): Promise<FinishedLogin> {
    const oidc = this.requireOidc();
    const pending = sealedLogin ? openPendingLogin(await this.key(), sealedLogin, nowMs) : undefined;
    if (!pending) {
      throw new BadRequestException(
        `no sign-in in progress in this browser (it expired, or was started elsewhere); start again at ${OIDC_LOGIN_PATH}`,
      );
    }
    if (callbackQuery.get('state') !== pending.state) {
      throw new BadRequestException(`the state parameter does not match this browser's sign-in; start again at ${OIDC_LOGIN_PATH}`);
    }
    const claims = await this.exchangeCode(oidc, callbackQuery, pending);
    const principal = await this.recordUser(oidc, claims);
    this.logger.log({ username: principal.username, roles: principal.roles }, 'signed in through single sign-on');
    const session = await this.auth.startSession(principal);
    const fragment = new URLSearchParams({ accessToken: session.accessToken, refreshToken: session.refreshToken });
    return { principal, session, redirectTo: `${portalRoot(oidc)}#${fragment}` };
  }

  private async exchangeCode(
    oidc: OidcConfig,
    callbackQuery: URLSearchParams,
    pending: { state: string; nonce: string; codeVerifier: string },
  ): Promise<Claims> {
    const [openid, configuration] = await Promise.all([this.client(), this.configurationOr503()]);
    // The URL the provider redirected to, as configured: behind a proxy the request's own URL may differ.
    const callbackUrl = new URL(oidc.redirectUrl);
    callbackUrl.search = callbackQuery.toString();
    try {
      const tokens = await openid.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims()!;
      // Many providers put profile and group claims only in the UserInfo response, not in the ID token.
      const hasUserInfo = configuration.serverMetadata().userinfo_endpoint !== undefined;
      const userInfo = hasUserInfo ? await openid.fetchUserInfo(configuration, tokens.access_token, idClaims.sub) : {};
      return { ...idClaims, ...userInfo };
    } catch (err) {
      throw this.toHttpError(openid, err);
    }
  }

  /** Creates or updates the single sign-on user with the roles its claims give now. */
  private async recordUser(oidc: OidcConfig, claims: Claims): Promise<Principal> {
    const username = usernameFromClaims(claims, oidc.usernameClaim);
    if (!username) throw new UnauthorizedException('the identity provider sent no subject (sub) for this user');
    const roles = grantsFromClaims(claims, oidc.rolesClaim, oidc.roleMap);
    if (roles.length === 0) {
      await this.revokeSsoUser(username);
      this.logger.warn({ username, rolesClaim: oidc.rolesClaim }, 'single sign-on refused: no role');
      throw new ForbiddenException(
        `${username} has no role in Baton: the identity provider's "${oidc.rolesClaim}" claim names no role the portal grants. ` +
          'Ask an administrator to add you to a group that maps to a Baton role.',
      );
    }
    if (!(await this.upsertSsoUser(username, roles))) {
      this.logger.warn({ username }, 'single sign-on refused: a local user has this name');
      throw new ConflictException(`a local (password) user named "${username}" already exists; single sign-on cannot sign in as that user`);
    }
    return { username, roles };
  }

  /**
   * Inserts the user, or refreshes the roles of an existing single sign-on user (empty password hash), in one
   * statement. Never touches a local user: false when one has this name.
   */
  private async upsertSsoUser(username: string, roles: RoleGrant[]): Promise<boolean> {
    const rows: unknown[] = await this.users.query(
      `INSERT INTO users (username, password_hash, roles, source) VALUES ($1, '', $2::jsonb, 'oidc')
       ON CONFLICT (username) DO UPDATE SET roles = EXCLUDED.roles, updated_at = now() WHERE users.source = 'oidc'
       RETURNING username`,
      [username, JSON.stringify(roles)],
    );
    return rows.length === 1;
  }

  /** The provider no longer grants this user any role: what the portal had stored goes too, and so do their sessions. */
  private async revokeSsoUser(username: string): Promise<void> {
    await this.users.query(`UPDATE users SET roles = '[]'::jsonb, updated_at = now() WHERE username = $1 AND source = 'oidc'`, [username]);
    await this.auth.revokeSessionsOf(username);
  }

  /** What the provider or openid-client said, as the HTTP answer a person can act on. */
  private toHttpError(openid: OpenIdClient, err: unknown): HttpException {
    if (err instanceof HttpException) return err;
    if (err instanceof openid.AuthorizationResponseError) {
      return new UnauthorizedException(`the identity provider refused the sign-in: ${providerError(err.error, err.error_description)}`);
    }
    if (err instanceof openid.ResponseBodyError) {
      return new UnauthorizedException(
        `the identity provider refused the authorization code: ${providerError(err.error, err.error_description)}`,
      );
    }
    if (err instanceof openid.ClientError) {
      this.logger.warn({ code: err.code, err: err.message }, 'single sign-on answer failed validation');
      return new UnauthorizedException(`the identity provider's answer failed validation: ${err.message}`);
    }
    this.logger.error({ err }, 'single sign-on: identity provider unreachable');
    return new ServiceUnavailableException('the identity provider is unreachable, try again shortly');
  }

  private requireOidc(): OidcConfig {
    if (!this.oidc) throw new NotFoundException('single sign-on is not configured on this portal (BATON_OIDC_ISSUER is unset)');
    return this.oidc;
  }

  private client(): Promise<OpenIdClient> {
    this.openIdClient ??= import('openid-client');
    return this.openIdClient;
  }

  /** The provider's metadata, discovered once; a failed discovery is forgotten so that the next call retries. */
  private configuration(): Promise<ClientConfiguration> {
    this.discovery ??= this.discover().catch((err: unknown) => {
      this.discovery = undefined;
      throw err;
    });
    return this.discovery;
  }

  private async configurationOr503(): Promise<ClientConfiguration> {
    try {
      return await this.configuration();
    } catch (err) {
      const issuer = this.oidc?.issuer.href;
      this.logger.warn({ issuer, err: reason(err) }, 'identity provider discovery failed');
      throw new ServiceUnavailableException(`the identity provider (${issuer}) is unreachable, try again shortly`);
    }
  }

  private async discover(): Promise<ClientConfiguration> {
    const oidc = this.requireOidc();
    const openid = await this.client();
    // Without a secret the portal is a public client, protected by PKCE alone.
    const clientAuth = oidc.clientSecret ? openid.ClientSecretBasic(oidc.clientSecret) : openid.None();
    // Config accepts http only for localhost (development and tests); openid-client needs to be told.
    const isPlainHttp = oidc.issuer.protocol === 'http:';
    return openid.discovery(oidc.issuer, oidc.clientId, undefined, clientAuth, {
      timeout: DISCOVERY_TIMEOUT_S,
      execute: isPlainHttp ? [openid.allowInsecureRequests] : [],
    });
  }

  /** The key sealing pending logins: created once and shared by all replicas through the settings table. */
  private key(): Promise<Buffer> {
    this.sealingKey ??= this.settings
      .getOrCreate('oidc.pendingLoginKey', () => randomBytes(32).toString('base64'))
      .then((value) => Buffer.from(value, 'base64'))
      .catch((err: unknown) => {
        this.sealingKey = undefined;
        throw err;
      });
    return this.sealingKey;
  }
}

/** The portal's UI root as the browser sees it: the redirect URL without the callback path. */
function portalRoot(oidc: OidcConfig): string {
  const root = new URL(oidc.redirectUrl);
  root.pathname = root.pathname.slice(0, -OIDC_CALLBACK_PATH.length) + '/';
  root.search = '';
  return root.href;
}

/** An error's message with its causes (openid-client wraps "fetch failed", which wraps "connect ECONNREFUSED ..."). */
function reason(err: unknown): string {
  const messages: string[] = [];
  // Duck-typed: errors from fetch may come from another realm (Jest), where instanceof Error is false.
  for (let e = err as { message?: unknown; cause?: unknown } | undefined; typeof e?.message === 'string' && messages.length < 4;) {
    messages.push(e.message);
    e = e.cause as typeof e;
  }
  return messages.length > 0 ? messages.join(': ') : String(err);
}

function providerError(error: string, description?: string): string {
  return description ? `${error} (${description})` : error;
}
