/** Sign-in: username and password to `POST /auth/login` (the session kept for this tab), or single sign-on when configured. */
import { Component, OnInit, inject, input, signal } from '@angular/core';
import { Router } from '@angular/router';
import { Api, ApiError, asApiError } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { Session, type Tokens } from '../core/session';

@Component({
  selector: 'baton-sign-in-page',
  imports: [ErrorNotice],
  template: `
    <h1>Sign in</h1>
    <baton-error-notice [error]="error()" />
    <form class="card" (submit)="signIn($event)" [attr.aria-busy]="isBusy()">
      <label>
        Username
        <input name="username" autocomplete="username" required [value]="username()" (input)="username.set(inputText($event))" />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autocomplete="current-password"
          required
          [value]="password()"
          (input)="password.set(inputText($event))"
        />
      </label>
      <button type="submit" [disabled]="isBusy()">Sign in</button>
    </form>
    @if (singleSignOnUrl(); as url) {
      <p><a class="button" [href]="url">Sign in with single sign-on</a></p>
    }
  `,
})
export class SignInPage implements OnInit {
  /** Where to go after signing in (set by the guard as `?returnUrl=`). */
  readonly returnUrl = input<string>();

  protected readonly username = signal('');
  protected readonly password = signal('');
  protected readonly isBusy = signal(false);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly singleSignOnUrl = signal<string | null>(null);

  private readonly api = inject(Api);
  private readonly session = inject(Session);
  private readonly router = inject(Router);

  async ngOnInit(): Promise<void> {
    const providers = await this.api.getJson<{ oidc: { enabled: boolean; loginUrl: string | null } }>('/auth/providers').catch(() => null);
    if (providers?.oidc.enabled && providers.oidc.loginUrl) this.singleSignOnUrl.set(providers.oidc.loginUrl);
  }

  protected inputText(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected async signIn(event: Event): Promise<void> {
    event.preventDefault();
    this.isBusy.set(true);
    this.error.set(null);
    try {
      const tokens = await this.api.postJson<Tokens>('/auth/login', {
        username: this.username(),
        password: this.password(),
      });
      this.session.signIn(tokens);
      await this.router.navigateByUrl(this.safeReturnUrl());
    } catch (error) {
      this.error.set(asApiError(error));
    } finally {
      this.isBusy.set(false);
    }
  }

  /** Only a path inside the portal is followed; anything else lands on the runbook list. */
  private safeReturnUrl(): string {
    const url = this.returnUrl();
    return url && url.startsWith('/') && !url.startsWith('//') ? url : '/';
  }
}
