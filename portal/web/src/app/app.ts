/** The shell: a header with navigation and sign-out, and the routed page below it. */
import { Component, inject } from '@angular/core';
import { Router, RouterLink, RouterOutlet } from '@angular/router';
import { Session } from './core/session';

@Component({
  selector: 'baton-root',
  imports: [RouterLink, RouterOutlet],
  template: `
    <header>
      <a class="brand" routerLink="/">Baton</a>
      <nav aria-label="Main">
        @if (session.isSignedIn()) {
          <a routerLink="/runbooks">Runbooks</a>
        }
      </nav>
      @if (session.isSignedIn()) {
        <button type="button" class="quiet" (click)="signOut()">Sign out</button>
      }
    </header>
    <main>
      <router-outlet />
    </main>
  `,
})
export class App {
  protected readonly session = inject(Session);
  private readonly router = inject(Router);

  protected signOut(): void {
    this.session.signOut();
    void this.router.navigate(['/sign-in']);
  }
}
