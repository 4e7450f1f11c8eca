/** @jest-environment jsdom */
import '../../testing/test-bed';
import { provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { Principal } from '../core/permissions';
import { FakePortal, Reply, apiError, ok } from '../../testing/fake-portal';
import { Agent, AgentStatus } from './agents';
import { NodesPage } from './nodes.page';

const ADMIN: Principal = { username: 'ada', roles: [{ role: 'admin' }] };
const OPERATOR: Principal = { username: 'olga', roles: [{ role: 'operator' }] };

function agent(name: string, status: AgentStatus, overrides: Partial<Agent> = {}): Agent {
  const isDecided = status !== 'pending';
  return {
    name,
    status,
    fingerprint: `SHA256:${name}-fingerprint-0f3a9c`,
    labels: { role: 'web' },
    hostname: `${name}.example.net`,
    requestedAt: '2025-03-01T10:00:00.000Z',
    decidedAt: isDecided ? '2025-03-01T11:00:00.000Z' : null,
    decidedBy: isDecided ? 'ada' : null,
    reason: null,
    ...overrides,
  };
}

/** The status each decision leads to, and the only status it starts from (the API's rule, written out for the fake). */
const TRANSITIONS: Record<string, { from: AgentStatus; to: AgentStatus }> = {
  accept: { from: 'pending', to: 'accepted' },
  reject: { from: 'pending', to: 'rejected' },
  revoke: { from: 'accepted', to: 'revoked' },
};

/** A portal holding these agents, whose decisions change them as the API would, and refuse with 409 as it would. */
function portalWith(me: Principal, agents: Agent[]): { portal: FakePortal; agents: Map<string, Agent> } {
  const state = new Map(agents.map((a) => [a.name, { ...a }]));
  const portal = new FakePortal()
    .on('GET', '/api/v1/auth/me', ok(me))
    .on('GET', '/api/v1/nodes', ok([]))
    .on('GET', '/api/v1/agents', () => ok([...state.values()]));
  for (const name of state.keys()) {
    for (const [decision, { from, to }] of Object.entries(TRANSITIONS)) {
      portal.on('POST', `/api/v1/agents/${name}/${decision}`, (request): Reply => {
        const current = state.get(name)!;
        if (current.status !== from) return apiError(409, 'Conflict', `Agent ${name} is ${current.status}, not ${from}`);
        const reason = (request.body as { reason?: string }).reason ?? null;
        const updated = { ...current, status: to, decidedAt: '2025-03-02T09:00:00.000Z', decidedBy: me.username, reason };
        state.set(name, updated);
        return ok(updated);
      });
    }
  }
  return { portal, agents: state };
}

let uninstall: () => void = () => undefined;
let current: FakePortal | undefined;

afterEach(() => {
  uninstall();
  sessionStorage.clear();
  expect(current?.unanswered).toEqual([]);
});

class NodesView {
  constructor(readonly fixture: ComponentFixture<NodesPage>) {}

  get element(): HTMLElement {
    return this.fixture.nativeElement;
  }

  get agentsSection(): HTMLElement | null {
    return this.element.querySelector('section[aria-labelledby="agents-heading"]');
  }

  /** Each agent's row as the person reads it: name, status, fingerprint and the buttons offered. */
  rows(): { name: string; status: string; fingerprint: string; buttons: string[] }[] {
    return [...this.agentsSection!.querySelectorAll<HTMLElement>('tr[data-agent]')].map((row) => ({
      name: row.cells[0].textContent!.trim(),
      status: row.cells[1].textContent!.trim(),
      fingerprint: row.querySelector('code')!.textContent!.trim(),
      buttons: [...row.querySelectorAll('button')].map((b) => b.textContent!.trim()),
    }));
  }

  row(name: string): HTMLTableRowElement {
    const row = this.agentsSection!.querySelector<HTMLTableRowElement>(`tr[data-agent="${name}"]`);
    if (!row) throw new Error(`no row for agent ${name}`);
    return row;
  }

  /** The text of a cell of the agent's row, under the column header of that name. */
  cell(name: string, header: string): string {
    const headers = [...this.agentsSection!.querySelectorAll('thead th')].map((th) => th.textContent!.trim());
    return this.row(name).cells[headers.indexOf(header)].textContent!.replace(/\s+/g, ' ').trim();
  }

  confirmation(): HTMLFormElement | null {
    return this.agentsSection!.querySelector('form[aria-labelledby="agent-decision-heading"]');
  }

  alerts(): string[] {
    return [...this.element.querySelectorAll('[role="alert"]')].map((e) => e.textContent!.trim());
  }

  statusNotices(): string[] {
    return [...this.element.querySelectorAll('.notice[role="status"]')].map((e) => e.textContent!.trim());
  }

  async press(label: string, within: HTMLElement = this.element): Promise<void> {
    const buttons = [...within.querySelectorAll<HTMLButtonElement>('button')].filter(
      (b) => (b.getAttribute('aria-label') ?? b.textContent!.trim()) === label,
    );
    if (buttons.length !== 1) throw new Error(`expected one button "${label}", found ${buttons.length}`);
    buttons[0].click();
    await settle(this.fixture);
  }

  async typeReason(text: string): Promise<void> {
    const input = this.confirmation()!.querySelector<HTMLInputElement>('#agent-decision-reason')!;
    input.value = text;
    input.dispatchEvent(new Event('input'));
    await settle(this.fixture);
  }
}

/** Lets the fake portal's answers arrive and the page render them. */
async function settle(fixture: ComponentFixture<unknown>): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    await fixture.whenStable();
  }
}

async function renderNodesPage(portal: FakePortal): Promise<NodesView> {
  current = portal;
  sessionStorage.setItem('baton.accessToken', 'session-token');
  uninstall = portal.install();
  TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection(), provideRouter([])] });
  const fixture = TestBed.createComponent(NodesPage);
  await settle(fixture);
  return new NodesView(fixture);
}

describe('nodes page: agents', () => {
  it('lists enrollment requests for admins, pending first, with fingerprint, labels, hostname, times and who decided', async () => {
    const { portal } = portalWith(ADMIN, [
      agent('db-1', 'revoked', { reason: 'disk swapped' }),
      agent('web-2', 'accepted', { decidedBy: null }),
      agent('web-9', 'pending', { requestedAt: '2025-03-01T12:00:00.000Z', labels: { role: 'web', env: 'prod' } }),
      agent('web-7', 'pending', { requestedAt: '2025-03-01T08:00:00.000Z', hostname: null }),
      agent('cache-1', 'rejected'),
    ]);
    const view = await renderNodesPage(portal);

    expect(view.agentsSection!.querySelector('h2')!.textContent).toBe('Agents');
    expect(view.rows().map((r) => `${r.name} ${r.status}`)).toEqual([
      'web-7 pending',
      'web-9 pending',
      'web-2 accepted',
      'cache-1 rejected',
      'db-1 revoked',
    ]);
    expect(view.statusNotices()).toContain('2 waiting for a decision.');
    const fingerprint = view.row('web-9').querySelector('code')!;
    expect(fingerprint.textContent).toBe('SHA256:web-9-fingerprint-0f3a9c');
    expect(fingerprint.matches('.fingerprint')).toBe(true); // monospace, to compare with what the agent printed
    expect(view.cell('web-9', 'Labels')).toBe('role=web, env=prod');
    expect(view.cell('web-9', 'Hostname')).toBe('web-9.example.net');
    expect(view.cell('web-7', 'Hostname')).toBe('—');
    expect(view.cell('web-9', 'Requested')).toBe(new Date('2025-03-01T12:00:00.000Z').toLocaleString());
    expect(view.cell('web-9', 'Decided')).toBe('—');
    const decided = view.row('db-1').cells[6];
    expect(decided.textContent).toContain(`${new Date('2025-03-01T11:00:00.000Z').toLocaleString()} by ada`);
    expect(decided.querySelector('.reason')!.textContent).toBe('disk swapped');
    expect(view.cell('web-2', 'Decided')).toBe(`${new Date('2025-03-01T11:00:00.000Z').toLocaleString()} automatically`);
  });

  it('offers Accept and Reject only on pending agents, Revoke only on accepted ones, nothing on the others', async () => {
    const { portal } = portalWith(ADMIN, [
      agent('web-7', 'pending'),
      agent('web-2', 'accepted'),
      agent('cache-1', 'rejected'),
      agent('db-1', 'revoked'),
    ]);
    const view = await renderNodesPage(portal);

    expect(view.rows().map((r) => [r.name, r.buttons])).toEqual([
      ['web-7', ['Accept', 'Reject']],
      ['web-2', ['Revoke']],
      ['cache-1', []],
      ['db-1', []],
    ]);
  });

  it('accepts a pending agent with one press and shows it accepted, now with Revoke', async () => {
    const { portal } = portalWith(ADMIN, [agent('web-7', 'pending')]);
    const view = await renderNodesPage(portal);

    await view.press('Accept agent web-7');

    const decision = portal.sent.find((r) => r.method === 'POST')!;
    expect(`${decision.method} ${decision.path}`).toBe('POST /api/v1/agents/web-7/accept');
    expect(decision.body).toEqual({});
    expect(view.statusNotices()).toContain('Agent web-7 accepted.');
    expect(view.rows()).toEqual([expect.objectContaining({ name: 'web-7', status: 'accepted', buttons: ['Revoke'] })]);
    expect(view.cell('web-7', 'Decided')).toBe(`${new Date('2025-03-02T09:00:00.000Z').toLocaleString()} by ada`);
  });

  it('asks before rejecting, shows the fingerprint again, and sends the reason typed', async () => {
    const { portal } = portalWith(ADMIN, [agent('web-7', 'pending')]);
    const view = await renderNodesPage(portal);

    await view.press('Reject agent web-7');

    const confirmation = view.confirmation()!;
    expect(confirmation.querySelector('h3')!.textContent).toBe('Reject agent web-7?');
    expect(confirmation.textContent).toContain('SHA256:web-7-fingerprint-0f3a9c');
    expect(confirmation.querySelector('label')!.textContent).toBe('Reason (optional)');
    expect(document.activeElement?.id).toBe('agent-decision-reason');
    expect(portal.requestLines()).not.toContain('POST /api/v1/agents/web-7/reject');

    await view.typeReason('  not one of ours  ');
    await view.press('Reject web-7', confirmation);

    expect(portal.sent.filter((r) => r.method === 'POST').map((r) => [r.path, r.body])).toEqual([
      ['/api/v1/agents/web-7/reject', { reason: 'not one of ours' }],
    ]);
    expect(view.confirmation()).toBeNull();
    expect(view.statusNotices()).toContain('Agent web-7 rejected.');
    expect(view.rows()).toEqual([expect.objectContaining({ name: 'web-7', status: 'rejected', buttons: [] })]);
    expect(view.row('web-7').querySelector('.reason')!.textContent).toBe('not one of ours');
  });

  it('explains what Revoke does before revoking; Cancel sends nothing', async () => {
    const { portal } = portalWith(ADMIN, [agent('web-2', 'accepted')]);
    const view = await renderNodesPage(portal);

    await view.press('Revoke agent web-2');
    const explanation = view.confirmation()!.textContent!;
    expect(explanation).toContain('Revoke agent web-2?');
    expect(explanation).toContain(
      'The agent is disconnected at once, its running node runs end lost, and it can never reconnect with that key.',
    );
    await view.press('Cancel', view.confirmation()!);
    expect(view.confirmation()).toBeNull();
    expect(portal.sent.filter((r) => r.method === 'POST')).toEqual([]);

    await view.press('Revoke agent web-2');
    await view.press('Revoke web-2', view.confirmation()!);

    expect(portal.sent.filter((r) => r.method === 'POST').map((r) => [r.path, r.body])).toEqual([['/api/v1/agents/web-2/revoke', {}]]);
    expect(view.rows()).toEqual([expect.objectContaining({ name: 'web-2', status: 'revoked', buttons: [] })]);
  });

  it("shows the portal's refusal when the agent changed meanwhile, and the agent as it is now", async () => {
    const { portal, agents } = portalWith(ADMIN, [agent('web-2', 'accepted')]);
    const view = await renderNodesPage(portal);
    agents.set('web-2', agent('web-2', 'revoked', { decidedBy: 'bob' })); // another admin was quicker

    await view.press('Revoke agent web-2');
    await view.press('Revoke web-2', view.confirmation()!);

    expect(view.alerts()).toEqual(['Agent web-2 is revoked, not accepted']);
    expect(view.statusNotices()).not.toContain('Agent web-2 revoked.');
    expect(view.rows()).toEqual([expect.objectContaining({ name: 'web-2', status: 'revoked', buttons: [] })]);
    expect(view.confirmation()).toBeNull();
  });

  it('shows an error the portal gives for the list', async () => {
    const portal = new FakePortal()
      .on('GET', '/api/v1/auth/me', ok(ADMIN))
      .on('GET', '/api/v1/nodes', ok([]))
      .on('GET', '/api/v1/agents', apiError(503, 'Service Unavailable', 'NATS is not configured; agents cannot enroll'));
    const view = await renderNodesPage(portal);

    expect(view.alerts()).toEqual(['NATS is not configured; agents cannot enroll']);
  });

  it('says where enrollment starts when no agent has asked yet', async () => {
    const { portal } = portalWith(ADMIN, []);
    const view = await renderNodesPage(portal);

    const empty = view.agentsSection!.querySelector('tbody td')!;
    expect(empty.textContent!.replace(/\s+/g, ' ').trim()).toBe(
      'No agent has asked to enroll yet. Create an enrollment token on the Admin page and install the agent with it.',
    );
    expect(empty.querySelector('a')!.getAttribute('href')).toBe('/admin');
  });

  it('shows no Agents section to someone who is not an admin, and never asks the API for agents', async () => {
    const { portal } = portalWith(OPERATOR, [agent('web-7', 'pending')]);
    const view = await renderNodesPage(portal);

    expect(view.element.querySelector('h1')!.textContent).toBe('Nodes');
    expect(view.agentsSection).toBeNull();
    expect(view.element.textContent).not.toContain('web-7');
    expect(portal.requestLines()).toEqual(['GET /api/v1/auth/me', 'GET /api/v1/nodes']);
  });
});
