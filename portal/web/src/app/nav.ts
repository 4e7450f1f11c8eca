/**
 * The top bar's pages, in order, each with who may see its link. A new page is one more entry here plus its
 * route in app.routes.ts.
 */
import { Principal, canReadAudit, canReadPools, isAdmin } from './core/permissions';

export interface NavEntry {
  label: string;
  path: string;
  /** Match only the exact path (the catalog at `/`), not everything below it. */
  isExact?: boolean;
  /** A count shown beside the label when above zero: `approvals`, the runs waiting for the person's decision. */
  badge?: 'approvals';
  isVisibleTo(me: Principal): boolean;
}

const everyone = () => true;

export const NAV_ENTRIES: NavEntry[] = [
  { label: 'Catalog', path: '/', isExact: true, isVisibleTo: everyone },
  { label: 'Executions', path: '/executions', isVisibleTo: everyone },
  // Anyone may be named an approver (by role or user name), so everyone has an inbox.
  { label: 'Approvals', path: '/approvals', badge: 'approvals', isVisibleTo: everyone },
  { label: 'Jobs', path: '/jobs', isVisibleTo: everyone },
  { label: 'Nodes', path: '/nodes', isVisibleTo: everyone },
  { label: 'Pools', path: '/pools', isVisibleTo: canReadPools },
  { label: 'Alerts', path: '/alerts', isVisibleTo: everyone },
  { label: 'Audit', path: '/audit', isVisibleTo: canReadAudit },
  { label: 'Notifiers', path: '/notifiers', isVisibleTo: isAdmin },
  { label: 'Admin', path: '/admin', isVisibleTo: isAdmin },
];
