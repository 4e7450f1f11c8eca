/** Who is signed in (`GET /auth/me`), loaded once per session token, and the guards for role-gated pages. */
import { Injectable, computed, inject, signal } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { Api } from './api';
import { Principal, canReadAudit, isAdmin } from './permissions';
import { Session } from './session';

@Injectable({ providedIn: 'root' })
export class Me {
  private readonly api = inject(Api);
  private readonly session = inject(Session);
  private readonly loaded = signal<Principal | null>(null);
  private loading?: { token: string | null; promise: Promise<Principal | null> };

  readonly principal = this.loaded.asReadonly();
  readonly isAdmin = computed(() => {
    const me = this.loaded();
    return me !== null && isAdmin(me);
  });
  readonly canReadAudit = computed(() => {
    const me = this.loaded();
    return me !== null && canReadAudit(me);
  });

  /** The principal for the current session (null when signed out or the API refused). */
  load(): Promise<Principal | null> {
    const token = this.session.token();
    if (!token) {
      this.loaded.set(null);
      return Promise.resolve(null);
    }
    if (this.loading?.token === token) return this.loading.promise;
    const promise = this.api.getJson<Principal>('/auth/me').then(
      (me) => {
        this.loaded.set(me);
        return me;
      },
      () => null,
    );
    this.loading = { token, promise };
    return promise;
  }

  forget(): void {
    this.loading = undefined;
    this.loaded.set(null);
  }
}

/** Lets through only people the check allows; others land on the catalog (the API refuses them anyway). */
export function requirePrincipal(isAllowed: (me: Principal) => boolean): CanActivateFn {
  return async () => {
    // inject() works only before the first await.
    const [principal, router] = [inject(Me), inject(Router)];
    const me = await principal.load();
    return me !== null && isAllowed(me) ? true : router.createUrlTree(['/']);
  };
}
