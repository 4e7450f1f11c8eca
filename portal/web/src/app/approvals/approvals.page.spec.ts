/** @jest-environment jsdom */
import '../../testing/test-bed';
import { Component, provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { App } from '../app';
import { Principal } from '../core/permissions';
import { WaitingRun, approvalsPortal, waitingRun } from '../../testing/approvals-portal';
import { FakePortal, apiError, ok } from '../../testing/fake-portal';
import { readText } from '../../testing/read-text';
import { INBOX_POLL_MS } from './approvals-inbox';
import { ApprovalsPage } from './approvals.page';

const BOB: Principal = { username: 'bob', roles: [{ role: 'editor' }] };

@Component({ template: '<h1>Catalog</h1>' })
class CatalogStandIn {}

let uninstall: () => void = () => undefined;
let current: FakePortal | undefined;

afterEach(() => {
  uninstall();
  jest.useRealTimers();
  jest.restoreAllMocks();
  sessionStorage.clear();
  localStorage.clear();
  expect(current?.unanswered).toEqual([]);
});

/** Lets the fake portal's answers arrive and the page render them. */
async function settle(fixture: ComponentFixture<unknown>): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    await fixture.whenStable();
  }
}

class Shell {
  constructor(readonly fixture: ComponentFixture<App>) {}

  get element(): HTMLElement {
    return this.fixture.nativeElement;
  }

  /** The Approvals link in the top bar, as a screen reader names it. */
  navLink(): string {
    const link = [...this.element.querySelectorAll('nav[aria-label="Main"] a')].find((a) => a.textContent!.trim().startsWith('Approvals'));
    if (!link) throw new Error('no Approvals link in the top bar');
    return link.textContent!.replace(/\s+/g, ' ').trim();
  }

  badge(): string | null {
    return this.element.querySelector('nav .badge')?.firstChild?.textContent?.trim() ?? null;
  }

  async go(url: string): Promise<void> {
    await TestBed.inject(Router).navigateByUrl(url);
    await settle(this.fixture);
  }

  /** Each run in the inbox as the person reads it, cell by cell under its column header. */
  rows(): Record<string, string>[] {
    const headers = [...this.element.querySelectorAll('thead th')].map((th) => th.textContent!.trim());
    return [...this.element.querySelectorAll<HTMLTableRowElement>('tr[data-execution]')].map((row) =>
      Object.fromEntries([...row.cells].map((cell, i) => [headers[i], readText(cell)])),
    );
  }

  row(run: WaitingRun): HTMLTableRowElement {
    const row = this.element.querySelector<HTMLTableRowElement>(`tr[data-execution="${run.id}"]`);
    if (!row) throw new Error(`no row for run ${run.id}`);
    return row;
  }

  rejectForm(): HTMLFormElement | null {
    return this.element.querySelector('form[aria-labelledby="reject-heading"]');
  }

  alerts(): string[] {
    return [...this.element.querySelectorAll('[role="alert"]')].map((e) => e.textContent!.trim());
  }

  statusNotices(): string[] {
    return [...this.element.querySelectorAll('.notice[role="status"]')].map((e) => e.textContent!.replace(/\s+/g, ' ').trim());
  }

  async press(label: string, within: HTMLElement = this.element): Promise<void> {
    const buttons = [...within.querySelectorAll<HTMLButtonElement>('button')].filter(
      (b) => (b.getAttribute('aria-label') ?? b.textContent!.trim()) === label,
    );
    if (buttons.length !== 1) throw new Error(`expected one button "${label}", found ${buttons.length}`);
    buttons[0].click();
    await settle(this.fixture);
  }

  async typeComment(text: string): Promise<void> {
    const textarea = this.rejectForm()!.querySelector<HTMLTextAreaElement>('textarea')!;
    textarea.value = text;
    textarea.dispatchEvent(new Event('input'));
    await settle(this.fixture);
  }
}

/** The whole shell (top bar and routed page) signed in against this portal, on the catalog. */
async function renderShell(portal: FakePortal): Promise<Shell> {
  current = portal;
  sessionStorage.setItem('baton.accessToken', 'session-token');
  localStorage.setItem('baton.theme', 'light'); // jsdom has no matchMedia
  uninstall = portal.install();
  TestBed.configureTestingModule({
    providers: [
      provideZonelessChangeDetection(),
      provideRouter([
        { path: '', component: CatalogStandIn },
        { path: 'approvals', component: ApprovalsPage },
      ]),
    ],
  });
  const fixture = TestBed.createComponent(App);
  const shell = new Shell(fixture);
  await shell.go('/');
  return shell;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const approvals = (p: FakePortal) => p.requestLines().filter((line) => line === 'GET /api/v1/approvals').length;

describe('approvals inbox', () => {
  it('lists the runs waiting for my decision: runbook, requester, when asked, when it times out, the decisions so far', async () => {
    const first = waitingRun({
      approval: {
        ...waitingRun().approval,
        timeoutAt: new Date(Date.now() + (3 * 60 + 30) * 60_000).toISOString(),
        decisions: [{ user: 'dave', decision: 'approved', comment: 'looks right', at: '2025-03-01T10:05:00.000Z' }],
      },
    });
    const second = waitingRun({ runbook: 'db.failover', createdAt: '2025-03-01T11:00:00.000Z' });
    const { portal } = approvalsPortal(BOB, [first, second]);
    const shell = await renderShell(portal);

    await shell.go('/approvals');

    expect(shell.element.querySelector('h1')!.textContent).toBe('Approvals');
    expect(shell.rows()).toEqual([
      {
        Runbook: `ap.restart ${first.id.slice(0, 8)}`,
        'Requested by': 'alice',
        Requested: new Date('2025-03-01T10:00:00.000Z').toLocaleString(),
        'Times out': `${new Date(first.approval.timeoutAt).toLocaleString()} 3 h 29 min left`,
        Decisions: '1 of 2 approvals dave approved looks right',
        Actions: 'Approve Reject',
      },
      {
        Runbook: `db.failover ${second.id.slice(0, 8)}`,
        'Requested by': 'alice',
        Requested: new Date('2025-03-01T11:00:00.000Z').toLocaleString(),
        'Times out': expect.stringMatching(
          new RegExp(`^${escape(new Date('2099-03-01T14:00:00.000Z').toLocaleString())} \\d+ d \\d+ h left$`),
        ),
        Decisions: '0 of 2 approvals',
        Actions: 'Approve Reject',
      },
    ]);
    expect(shell.row(first).querySelector('a')!.getAttribute('href')).toBe(`/executions/${first.id}`);
  });

  it('shows the count in the top bar, and lowers it once I approve a run from the inbox', async () => {
    const first = waitingRun();
    const second = waitingRun({ runbook: 'db.failover' });
    const { portal, runs } = approvalsPortal(BOB, [first, second]);
    const shell = await renderShell(portal);

    expect(shell.badge()).toBe('2');
    expect(shell.navLink()).toBe('Approvals 2 waiting for your decision');

    await shell.go('/approvals');
    await shell.press(`Approve run ${first.id.slice(0, 8)} of ap.restart`);

    const sent = portal.sent.filter((r) => r.method === 'POST');
    expect(sent.map((r) => [r.path, r.body])).toEqual([[`/api/v1/executions/${first.id}/approve`, {}]]);
    expect(shell.statusNotices()).toEqual(['Approved: the run of ap.restart still needs 1 more approval. Open the run']);
    expect(runs.get(first.id)!.approval.decisions).toEqual([expect.objectContaining({ user: 'bob', decision: 'approved' })]);
    expect(shell.rows().map((r) => r['Runbook'])).toEqual([`db.failover ${second.id.slice(0, 8)}`]);
    expect(shell.badge()).toBe('1');
  });

  it('shows no badge when nothing waits, and says so on the page', async () => {
    const { portal } = approvalsPortal(BOB, []);
    const shell = await renderShell(portal);

    expect(shell.badge()).toBeNull();
    expect(shell.navLink()).toBe('Approvals');
    await shell.go('/approvals');
    expect(shell.element.querySelector('tbody td')!.textContent!.trim()).toBe('Nothing waits for your decision.');
  });

  it('asks for a comment before rejecting, sends nothing without one, then rejects with the comment typed', async () => {
    const run = waitingRun();
    const { portal, runs } = approvalsPortal(BOB, [run]);
    const shell = await renderShell(portal);
    await shell.go('/approvals');

    await shell.press(`Reject run ${run.id.slice(0, 8)} of ap.restart`);
    const form = shell.rejectForm()!;
    expect(form.querySelector('h3')!.textContent).toBe('Reject the run of ap.restart?');
    expect(form.querySelector('label')!.textContent).toBe('Why (required)');
    expect(document.activeElement).toBe(form.querySelector('textarea'));

    await shell.press('Reject run', form);
    expect(form.querySelector('.field-error')!.textContent).toBe('Say why you reject it.');
    expect(form.querySelector('textarea')!.getAttribute('aria-invalid')).toBe('true');
    await shell.typeComment('   ');
    await shell.press('Reject run', form);
    expect(portal.sent.filter((r) => r.method === 'POST')).toEqual([]);

    await shell.typeComment('  not during the sale ');
    await shell.press('Reject run', shell.rejectForm()!);

    expect(portal.sent.filter((r) => r.method === 'POST').map((r) => [r.path, r.body])).toEqual([
      [`/api/v1/executions/${run.id}/reject`, { comment: 'not during the sale' }],
    ]);
    expect(runs.get(run.id)).toMatchObject({ status: 'rejected', reason: 'rejected by bob: not during the sale' });
    expect(shell.statusNotices()).toEqual(['Rejected: the run of ap.restart will not start. Open the run']);
    expect(shell.rejectForm()).toBeNull();
    expect(shell.rows()).toEqual([]);
    expect(shell.badge()).toBeNull();
  });

  it("shows the portal's refusal as it gave it, and the inbox as the portal sees it now", async () => {
    const run = waitingRun();
    const { portal, runs } = approvalsPortal(BOB, [run]);
    const shell = await renderShell(portal);
    await shell.go('/approvals');
    runs.get(run.id)!.refusals['bob'] = 'only role editor, user carol may decide this run'; // bob lost his role meanwhile

    await shell.press(`Approve run ${run.id.slice(0, 8)} of ap.restart`);

    expect(shell.alerts()).toEqual(['only role editor, user carol may decide this run']);
    expect(shell.statusNotices()).toEqual([]);
    expect(runs.get(run.id)!.approval.decisions).toEqual([]);
    expect(shell.rows()).toEqual([]);
  });

  it('says when someone else was quicker, and the run leaves the list', async () => {
    const run = waitingRun({ approval: { ...waitingRun().approval, required: 1 } });
    const { portal, runs } = approvalsPortal(BOB, [run]);
    const shell = await renderShell(portal);
    await shell.go('/approvals');
    Object.assign(runs.get(run.id)!, { status: 'rejected', reason: 'rejected by dave: no' });

    await shell.press(`Approve run ${run.id.slice(0, 8)} of ap.restart`);

    expect(shell.alerts()).toEqual([`execution ${run.id} is rejected: there is nothing to decide`]);
    expect(shell.rows()).toEqual([]);
    expect(shell.badge()).toBeNull();
  });

  it('shows the error the portal gives for the list', async () => {
    const portal = new FakePortal()
      .on('GET', '/api/v1/auth/me', ok(BOB))
      .on('GET', '/api/v1/approvals', apiError(503, 'Service Unavailable', 'database unavailable, try again shortly'));
    const shell = await renderShell(portal);
    await shell.go('/approvals');

    expect(shell.alerts()).toEqual(['database unavailable, try again shortly']);
    expect(shell.badge()).toBeNull();
  });

  it('counts again every 15 s and on navigation, but not twice within a few seconds', async () => {
    // Only the intervals are fake (the poll); Angular and the fake portal keep their real timeouts and frames.
    jest.useFakeTimers({
      doNotFake: [
        'Date',
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'requestAnimationFrame',
        'cancelAnimationFrame',
        'requestIdleCallback',
        'cancelIdleCallback',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
      ],
    });
    let now = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    const { portal, runs } = approvalsPortal(BOB, [waitingRun()]);
    const shell = await renderShell(portal);
    expect(shell.badge()).toBe('1');
    const asked = approvals(portal);

    await shell.go('/approvals'); // the page asks once itself
    await shell.go('/');
    expect(approvals(portal)).toBe(asked + 1);

    const another = waitingRun({ runbook: 'db.failover' });
    runs.set(another.id, another);
    now += INBOX_POLL_MS;
    jest.advanceTimersByTime(INBOX_POLL_MS);
    await settle(shell.fixture);
    expect(approvals(portal)).toBe(asked + 2);
    expect(shell.badge()).toBe('2');

    runs.delete(another.id);
    now += 6_000;
    await shell.go('/approvals');
    await shell.go('/');
    expect(shell.badge()).toBe('1');
  });
});
