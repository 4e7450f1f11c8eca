/** @jest-environment jsdom */
import '../../testing/test-bed';
import { provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { Principal } from '../core/permissions';
import { WaitingRun, approvalsPortal, executionOf, waitingRun } from '../../testing/approvals-portal';
import { FakePortal, apiError, ok } from '../../testing/fake-portal';
import { readText } from '../../testing/read-text';
import { RunbookDetail } from '../runbooks/runbook';
import { ExecutionPage } from './execution.page';

const ADA: Principal = { username: 'ada', roles: [{ role: 'admin' }] };
const ALICE: Principal = { username: 'alice', roles: [{ role: 'operator' }] };
const EVE: Principal = { username: 'eve', roles: [{ role: 'viewer' }] };

const RUNBOOK: RunbookDetail = {
  id: 'ap.restart',
  title: 'Restart, approved in production',
  steps: [{ id: 'restart', run: 'echo restarting' }],
  version: 'f00dfeedcafe0000',
};

/** The log stream stays silent here (jsdom has no EventSource; the log view has its own spec). */
class SilentEventSource {
  addEventListener(): void {
    /* no log lines in these tests */
  }
  close(): void {
    /* nothing to close */
  }
}

let uninstall: () => void = () => undefined;
let current: FakePortal | undefined;

beforeAll(() => {
  (globalThis as { EventSource?: unknown }).EventSource = SilentEventSource;
});

afterEach(() => {
  uninstall();
  sessionStorage.clear();
  expect(current?.unanswered).toEqual([]);
});

async function settle(fixture: ComponentFixture<unknown>): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    await fixture.whenStable();
  }
}

class ExecutionView {
  constructor(readonly fixture: ComponentFixture<ExecutionPage>) {}

  get element(): HTMLElement {
    return this.fixture.nativeElement;
  }

  heading(): string {
    return readText(this.element.querySelector('h1')!);
  }

  get panel(): HTMLElement | null {
    return this.element.querySelector('section[aria-labelledby="approval-heading"]');
  }

  /** The panel's facts, `Needs: 2 approvals (…)`, one per line. */
  facts(): string[] {
    const terms = [...this.panel!.querySelectorAll('dt')];
    return terms.map((dt) => `${readText(dt)}: ${readText(dt.nextElementSibling!)}`);
  }

  decisions(): string[] {
    return [...this.panel!.querySelectorAll('.decisions li')].map(readText);
  }

  panelButtons(): string[] {
    return [...this.panel!.querySelectorAll('button')].map((b) => b.textContent!.trim());
  }

  whyNot(): string | null {
    return this.panel!.querySelector('#approval-why-not')?.textContent?.trim() ?? null;
  }

  alerts(): string[] {
    return [...this.element.querySelectorAll('[role="alert"]')].map((e) => e.textContent!.trim());
  }

  notices(): string[] {
    return [...this.element.querySelectorAll('.notice')].map((e) => e.textContent!.trim());
  }

  async press(label: string, within: HTMLElement = this.panel!): Promise<void> {
    const buttons = [...within.querySelectorAll<HTMLButtonElement>('button')].filter((b) => b.textContent!.trim() === label);
    if (buttons.length !== 1) throw new Error(`expected one button "${label}", found ${buttons.length}`);
    buttons[0].click();
    await settle(this.fixture);
  }

  async typeComment(text: string): Promise<void> {
    const textarea = this.panel!.querySelector<HTMLTextAreaElement>('#reject-comment')!;
    textarea.value = text;
    textarea.dispatchEvent(new Event('input'));
    await settle(this.fixture);
  }
}

async function renderExecution(portal: FakePortal, run: WaitingRun): Promise<ExecutionView> {
  current = portal.on('GET', '/api/v1/runbooks/ap.restart', ok(RUNBOOK));
  sessionStorage.setItem('baton.accessToken', 'session-token');
  uninstall = portal.install();
  TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection(), provideRouter([])] });
  const fixture = TestBed.createComponent(ExecutionPage);
  fixture.componentRef.setInput('id', run.id);
  await settle(fixture);
  return new ExecutionView(fixture);
}

describe('execution page: approval', () => {
  it('shows what a waiting run needs, who may decide, who asked, the time left and the decisions with comments', async () => {
    const run = waitingRun({
      approval: {
        ...waitingRun().approval,
        timeoutAt: new Date(Date.now() + 90 * 60_000).toISOString(),
        decisions: [{ user: 'bob', decision: 'approved', comment: 'looks right', at: '2025-03-01T10:05:00.000Z' }],
      },
    });
    const { portal } = approvalsPortal(ADA, [run]);
    const view = await renderExecution(portal, run);

    expect(view.heading()).toBe('Restart, approved in production waiting for approval');
    expect(view.element.querySelector('h1 .status')!.classList).toContain('waiting');
    expect(view.facts()).toEqual([
      'Needs: 2 approvals, 1 given',
      'Who may decide: role editor, user carol, or an admin',
      'Requested by: alice',
      `Times out: ${new Date(run.approval.timeoutAt).toLocaleString()} (1 h 29 min left)`,
    ]);
    expect(view.decisions()).toEqual([`bob approved ${new Date('2025-03-01T10:05:00.000Z').toLocaleString()} looks right`]);
    expect(view.panelButtons()).toEqual(['Approve', 'Reject']);
  });

  it('approves from the execution page, says what it did, and shows the run queued with the decision', async () => {
    const run = waitingRun({ approval: { ...waitingRun().approval, required: 1 } });
    const { portal } = approvalsPortal(ADA, [run]);
    const view = await renderExecution(portal, run);

    await view.press('Approve');

    expect(portal.sent.filter((r) => r.method === 'POST').map((r) => [r.path, r.body])).toEqual([
      [`/api/v1/executions/${run.id}/approve`, {}],
    ]);
    expect(view.notices()).toContain('Approved: the run of ap.restart has the approvals it needs and starts as soon as the queue allows.');
    expect(view.heading()).toBe('Restart, approved in production queued');
    expect(view.decisions()).toEqual([`ada approved ${new Date('2025-03-01T10:20:00.000Z').toLocaleString()}`]);
    expect(view.panelButtons()).toEqual([]);
    expect(view.facts().some((fact) => fact.startsWith('Times out'))).toBe(false);
  });

  it('rejects only with a comment, and shows the run rejected with the reason', async () => {
    const run = waitingRun();
    const { portal } = approvalsPortal(ADA, [run]);
    const view = await renderExecution(portal, run);

    await view.press('Reject');
    await view.press('Reject run');
    expect(view.panel!.querySelector('.field-error')!.textContent).toBe('Say why you reject it.');
    expect(portal.sent.filter((r) => r.method === 'POST')).toEqual([]);

    await view.typeComment('not during the sale');
    await view.press('Reject run');

    expect(portal.sent.filter((r) => r.method === 'POST').map((r) => [r.path, r.body])).toEqual([
      [`/api/v1/executions/${run.id}/reject`, { comment: 'not during the sale' }],
    ]);
    expect(view.heading()).toBe('Restart, approved in production rejected');
    expect(view.element.querySelector('h1 .status')!.classList).toContain('rejected');
    expect(view.notices()).toContain('rejected by ada: not during the sale');
    expect(view.decisions()).toEqual([`ada rejected ${new Date('2025-03-01T10:20:00.000Z').toLocaleString()} not during the sale`]);
    expect(view.panelButtons()).toEqual([]);
  });

  it('offers no decision to someone the run is not waiting for, and says who may decide', async () => {
    const run = waitingRun();
    const { portal } = approvalsPortal(EVE, [run]);
    const view = await renderExecution(portal, run);

    expect(view.panelButtons()).toEqual([]);
    expect(view.whyNot()).toBe('Only role editor, user carol, or an admin may decide this run.');
    expect(portal.sent.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('tells the requester that someone else must approve (four eyes)', async () => {
    const run = waitingRun();
    const { portal } = approvalsPortal(ALICE, [run]);
    const view = await renderExecution(portal, run);

    expect(view.panelButtons()).toEqual([]);
    expect(view.whyNot()).toBe('You requested this run: approval must come from someone else (role editor, user carol, or an admin).');
  });

  it("offers the decision when the inbox cannot be read, and shows the portal's refusal", async () => {
    const run = waitingRun({ refusals: { eve: 'only role editor, user carol may decide this run' } });
    const { portal } = approvalsPortal(EVE, [run]);
    portal.on('GET', '/api/v1/approvals', apiError(503, 'Service Unavailable', 'database unavailable, try again shortly'));
    const view = await renderExecution(portal, run);

    expect(view.panelButtons()).toEqual(['Approve', 'Reject']);
    await view.press('Approve');

    expect(view.alerts()).toEqual(['only role editor, user carol may decide this run']);
    expect(view.heading()).toBe('Restart, approved in production waiting for approval');
  });

  it('shows the decisions of a run that was approved and ran, without buttons or time left', async () => {
    const run = waitingRun({
      status: 'succeeded',
      approval: {
        ...waitingRun().approval,
        decisions: [
          { user: 'bob', decision: 'approved', comment: null, at: '2025-03-01T10:05:00.000Z' },
          { user: 'carol', decision: 'approved', comment: 'ok for prod', at: '2025-03-01T10:06:00.000Z' },
        ],
      },
    });
    const { portal } = approvalsPortal(ADA, [run]);
    const view = await renderExecution(portal, run);

    expect(view.facts()).toEqual([
      'Needs: 2 approvals, 2 given',
      'Who may decide: role editor, user carol, or an admin',
      'Requested by: alice',
    ]);
    expect(view.decisions()).toEqual([
      `bob approved ${new Date('2025-03-01T10:05:00.000Z').toLocaleString()}`,
      `carol approved ${new Date('2025-03-01T10:06:00.000Z').toLocaleString()} ok for prod`,
    ]);
    expect(view.panelButtons()).toEqual([]);
    expect(portal.requestLines()).not.toContain('GET /api/v1/approvals'); // nothing to decide: the inbox is not asked
  });

  it('shows no approval panel for a run that needed none', async () => {
    const run = waitingRun({ status: 'succeeded' });
    const { portal } = approvalsPortal(ADA, [run]);
    const detail = executionOf(run);
    delete detail.approval;
    portal.on('GET', `/api/v1/executions/${run.id}`, ok(detail));
    const view = await renderExecution(portal, run);

    expect(view.heading()).toBe('Restart, approved in production succeeded');
    expect(view.panel).toBeNull();
  });
});
