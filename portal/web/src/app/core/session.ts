/** The signed-in session: the access token kept in sessionStorage (gone when the tab closes) and the route guard. */
import { Injectable, computed, inject, signal } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';

const TOKEN_KEY = 'baton.accessToken';

@Injectable({ providedIn: 'root' })
export class Session {
  private readonly storedToken = signal<string | null>(sessionStorage.getItem(TOKEN_KEY));
  readonly token = this.storedToken.asReadonly();
  readonly isSignedIn = computed(() => this.storedToken() !== null);

  signIn(accessToken: string): void {
    sessionStorage.setItem(TOKEN_KEY, accessToken);
    this.storedToken.set(accessToken);
  }

  signOut(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    this.storedToken.set(null);
  }
}

/** Sends a visitor without a token to the sign-in page, remembering where they were going. */
export const requireSignIn: CanActivateFn = (_route, state) => {
  if (inject(Session).isSignedIn()) return true;
  return inject(Router).createUrlTree(['/sign-in'], { queryParams: { returnUrl: state.url } });
};
