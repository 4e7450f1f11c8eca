/** The current time as a signal, for "3 min left" texts that must move on while nothing else changes. */
import { DestroyRef, Signal, inject, signal } from '@angular/core';

/** Date.now(), renewed every `everyMs` until the component (or service) that asked is destroyed. Needs an injection context. */
export function ticking(everyMs: number): Signal<number> {
  const now = signal(Date.now());
  const timer = setInterval(() => now.set(Date.now()), everyMs);
  inject(DestroyRef).onDestroy(() => clearInterval(timer));
  return now.asReadonly();
}
