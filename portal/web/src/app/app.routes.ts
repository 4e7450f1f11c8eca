/** Routes: each page is loaded on first visit; everything but sign-in needs a session. */
import { Routes } from '@angular/router';
import { requireSignIn } from './core/session';

export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'runbooks' },
  {
    path: 'sign-in',
    title: 'Sign in · Baton',
    loadComponent: () => import('./sign-in/sign-in.page').then((m) => m.SignInPage),
  },
  {
    path: 'runbooks',
    title: 'Runbooks · Baton',
    canActivate: [requireSignIn],
    loadComponent: () => import('./runbooks/runbook-list.page').then((m) => m.RunbookListPage),
  },
  {
    path: 'runbooks/:id',
    title: 'Runbook · Baton',
    canActivate: [requireSignIn],
    loadComponent: () => import('./runbooks/runbook.page').then((m) => m.RunbookPage),
  },
  {
    path: 'executions/:id',
    title: 'Execution · Baton',
    canActivate: [requireSignIn],
    loadComponent: () => import('./executions/execution.page').then((m) => m.ExecutionPage),
  },
  { path: '**', redirectTo: 'runbooks' },
];
