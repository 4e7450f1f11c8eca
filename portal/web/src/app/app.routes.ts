/** Routes: each page is loaded on first visit; everything but sign-in needs a session; Pools, Audit, Notifiers and Admin a role. */
import { Routes } from '@angular/router';
import { requirePrincipal } from './core/me';
import { canReadAudit, canReadPools, isAdmin } from './core/permissions';
import { requireSignIn } from './core/session';

export const routes: Routes = [
  {
    path: 'sign-in',
    title: 'Sign in · Baton',
    loadComponent: () => import('./sign-in/sign-in.page').then((m) => m.SignInPage),
  },
  {
    path: '',
    canActivateChild: [requireSignIn],
    children: [
      {
        path: '',
        pathMatch: 'full',
        title: 'Catalog · Baton',
        loadComponent: () => import('./catalog/catalog.page').then((m) => m.CatalogPage),
      },
      { path: 'runbooks', pathMatch: 'full', redirectTo: '' },
      {
        path: 'runbooks/:id',
        title: 'Runbook · Baton',
        loadComponent: () => import('./runbooks/runbook.page').then((m) => m.RunbookPage),
      },
      {
        path: 'executions',
        title: 'Executions · Baton',
        loadComponent: () => import('./executions/executions.page').then((m) => m.ExecutionsPage),
      },
      {
        path: 'executions/:id',
        title: 'Execution · Baton',
        loadComponent: () => import('./executions/execution.page').then((m) => m.ExecutionPage),
      },
      {
        path: 'approvals',
        title: 'Approvals · Baton',
        loadComponent: () => import('./approvals/approvals.page').then((m) => m.ApprovalsPage),
      },
      {
        path: 'jobs',
        title: 'Jobs · Baton',
        loadComponent: () => import('./jobs/jobs.page').then((m) => m.JobsPage),
      },
      {
        path: 'nodes',
        title: 'Nodes · Baton',
        loadComponent: () => import('./nodes/nodes.page').then((m) => m.NodesPage),
      },
      {
        path: 'pools',
        title: 'Pools · Baton',
        canActivate: [requirePrincipal(canReadPools)],
        loadComponent: () => import('./pools/pools.page').then((m) => m.PoolsPage),
      },
      {
        path: 'alerts',
        title: 'Alerts · Baton',
        loadComponent: () => import('./alerts/alerts.page').then((m) => m.AlertsPage),
      },
      {
        path: 'audit',
        title: 'Audit · Baton',
        canActivate: [requirePrincipal(canReadAudit)],
        loadComponent: () => import('./audit/audit.page').then((m) => m.AuditPage),
      },
      {
        path: 'notifiers',
        title: 'Notifiers · Baton',
        canActivate: [requirePrincipal(isAdmin)],
        loadComponent: () => import('./notifiers/notifiers.page').then((m) => m.NotifiersPage),
      },
      {
        path: 'admin',
        title: 'Admin · Baton',
        canActivate: [requirePrincipal(isAdmin)],
        loadComponent: () => import('./admin/admin.page').then((m) => m.AdminPage),
      },
    ],
  },
  { path: '**', redirectTo: '' },
];
