/**
 * The signed-in session: a short-lived access token and the refresh token that renews it, kept in sessionStorage
 * (gone when the tab closes), and the route guard.
 */
import { Injectable, computed, inject, signal } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';

const TOKEN_KEY = 'baton.accessToken';
const REFRESH_KEY = 'baton.refreshToken';

export interface Tokens {
  accessToken: string;
  refreshToken?: string;
}

@Injectable({ providedIn: 'root' })
export class Session {
  private readonly storedToken = signal<string | null>(sessionStorage.getItem(TOKEN_KEY));
  readonly token = this.storedToken.asReadonly();
  readonly isSignedIn = computed(() => this.storedToken() !== null);
  /** One renewal at a time: parallel requests that all met an expired token wait for the same one. */
  private renewal?: Promise<boolean>;

  constructor() {
    this.takeTokensFromSingleSignOn();
  }

  /** Single sign-on ends by sending the browser to `/#accessToken=...&refreshToken=...`: keep them, then drop them from the address bar. */
  private takeTokensFromSingleSignOn(): void {
    const fragment = new URLSearchParams(location.hash.slice(1));
    const accessToken = fragment.get('accessToken');
    if (!accessToken) return;
    this.signIn({ accessToken, refreshToken: fragment.get('refreshToken') ?? undefined });
    history.replaceState(null, '', location.pathname + location.search);
  }

  signIn(tokens: Tokens): void {
    sessionStorage.setItem(TOKEN_KEY, tokens.accessToken);
    if (tokens.refreshToken) sessionStorage.setItem(REFRESH_KEY, tokens.refreshToken);
    this.storedToken.set(tokens.accessToken);
  }

  signOut(): void {
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    if (refreshToken) void post('/api/v1/auth/logout', { refreshToken });
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(REFRESH_KEY);
    this.storedToken.set(null);
  }

  /** Trades the refresh token for a new session; false when there is none or the portal refuses it. */
  renew(): Promise<boolean> {
    this.renewal ??= this.exchangeRefreshToken().finally(() => (this.renewal = undefined));
    return this.renewal;
  }

  private async exchangeRefreshToken(): Promise<boolean> {
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    if (!refreshToken) return false;
    const response = await post('/api/v1/auth/refresh', { refreshToken }).catch(() => null);
    if (!response?.ok) return false;
    this.signIn((await response.json()) as Tokens);
    return true;
  }
}

function post(path: string, body: unknown): Promise<Response> {
  return fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Sends a visitor without a token to the sign-in page, remembering where they were going. */
export const requireSignIn: CanActivateFn = (_route, state) => {
  if (inject(Session).isSignedIn()) return true;
  return inject(Router).createUrlTree(['/sign-in'], { queryParams: { returnUrl: state.url } });
};
