/**
 * The shell: a top bar with the pages this person may open (Approvals with the count of runs waiting for their
 * decision), the theme toggle and sign-out; the routed page below.
 */
import { Component, computed, effect, inject, untracked } from '@angular/core';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { ApprovalsInbox } from './approvals/approvals-inbox';
import { Me } from './core/me';
import { Session } from './core/session';
import { Theme } from './core/theme';
import { NAV_ENTRIES, NavEntry } from './nav';

@Component({
  selector: 'baton-root',
  imports: [RouterLink, RouterLinkActive, RouterOutlet],
  template: `
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="topbar">
      <a class="brand" routerLink="/">Baton</a>
      <nav aria-label="Main">
        @for (entry of navEntries(); track entry.path) {
          <a
            [routerLink]="entry.path"
            routerLinkActive="active"
            [routerLinkActiveOptions]="{ exact: entry.isExact ?? false }"
            ariaCurrentWhenActive="page"
            >{{ entry.label }}
            @if (badgeCount(entry); as count) {
              <span class="badge" [attr.title]="count + ' waiting for your decision'"
                >{{ count }}<span class="visually-hidden"> waiting for your decision</span></span
              >
            }
          </a>
        }
      </nav>
      <div class="topbar-end">
        <button
          type="button"
          class="quiet"
          (click)="theme.toggle()"
          [attr.aria-label]="theme.current() === 'dark' ? 'Use light theme' : 'Use dark theme'"
          [attr.title]="theme.current() === 'dark' ? 'Use light theme' : 'Use dark theme'"
        >
          {{ theme.current() === 'dark' ? '☀' : '☾' }}
        </button>
        @if (session.isSignedIn()) {
          @if (me.principal(); as principal) {
            <span class="muted user" aria-label="Signed in as">{{ principal.username }}</span>
          }
          <button type="button" class="quiet" (click)="signOut()">Sign out</button>
        }
      </div>
    </header>
    <main id="main" tabindex="-1">
      <router-outlet />
    </main>
  `,
})
export class App {
  protected readonly session = inject(Session);
  protected readonly me = inject(Me);
  protected readonly theme = inject(Theme);
  private readonly router = inject(Router);
  private readonly inbox = inject(ApprovalsInbox);

  protected readonly navEntries = computed(() => {
    const principal = this.me.principal();
    if (!this.session.isSignedIn() || !principal) return [];
    return NAV_ENTRIES.filter((entry) => entry.isVisibleTo(principal));
  });

  constructor() {
    effect(() => {
      if (this.session.token()) void this.me.load();
    });
    effect((onCleanup) => {
      if (this.session.isSignedIn()) onCleanup(untracked(() => this.inbox.keepFresh()));
    });
  }

  protected badgeCount(entry: NavEntry): number {
    return entry.badge === 'approvals' ? this.inbox.count() : 0;
  }

  protected signOut(): void {
    this.session.signOut();
    this.me.forget();
    void this.router.navigate(['/sign-in']);
  }
}
