/** Light or dark: the system's choice unless the person picked one with the toggle (kept in localStorage). */
import { Injectable, signal } from '@angular/core';

export type ThemeChoice = 'light' | 'dark';
const THEME_KEY = 'baton.theme';

@Injectable({ providedIn: 'root' })
export class Theme {
  readonly current = signal<ThemeChoice>(initialTheme());

  constructor() {
    document.documentElement.dataset['theme'] = this.current();
  }

  toggle(): void {
    const next: ThemeChoice = this.current() === 'dark' ? 'light' : 'dark';
    localStorage.setItem(THEME_KEY, next);
    document.documentElement.dataset['theme'] = next;
    this.current.set(next);
  }
}

function initialTheme(): ThemeChoice {
  const stored = localStorage.getItem(THEME_KEY);
  if (stored === 'light' || stored === 'dark') return stored;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
