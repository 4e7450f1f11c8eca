/** @jest-environment jsdom */
import '../../testing/test-bed';
import { Clipboard } from '@angular/cdk/clipboard';
import { provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { FakePortal, Reply, apiError, ok } from '../../testing/fake-portal';
import { AdminPage } from './admin.page';
import { CreatedEnrollmentToken, EnrollmentToken, EnrollmentTokenStatus } from './enrollment-tokens';

const SECRET = 'bet_9Yq2c1Zr0kP8sWmLx4';

function token(id: string, status: EnrollmentTokenStatus, overrides: Partial<EnrollmentToken> = {}): EnrollmentToken {
  return {
    id,
    description: null,
    expiresAt: '2025-03-01T11:00:00.000Z',
    maxUses: 50,
    uses: 0,
    autoAccept: false,
    labels: {},
    createdBy: 'ada',
    createdAt: '2025-03-01T10:00:00.000Z',
    revokedAt: status === 'revoked' ? '2025-03-01T10:30:00.000Z' : null,
    status,
    ...overrides,
  };
}

/** A portal holding these tokens (and nothing else the Admin page lists); creating and revoking change them. */
function portalWith(tokens: EnrollmentToken[]): { portal: FakePortal; tokens: EnrollmentToken[] } {
  const state = tokens.map((t) => ({ ...t }));
  const portal = new FakePortal()
    .on('GET', '/api/v1/users', ok([]))
    .on('GET', '/api/v1/auth/tokens?all=1', ok([]))
    .on('GET', '/api/v1/secrets', ok([]))
    .on('GET', '/api/v1/enrollment-tokens', () => ok(state))
    .on('POST', '/api/v1/enrollment-tokens', (request): Reply => {
      const body = request.body as { maxUses: number; autoAccept: boolean; labels?: Record<string, string>; description?: string };
      const created = token('tok-new', 'active', { ...body, labels: body.labels ?? {}, description: body.description ?? null });
      state.push(created);
      return { status: 201, body: { ...created, token: SECRET } satisfies CreatedEnrollmentToken };
    });
  for (const t of state) {
    portal.on('DELETE', `/api/v1/enrollment-tokens/${t.id}`, (): Reply => {
      Object.assign(t, { status: 'revoked', revokedAt: '2025-03-01T10:45:00.000Z' });
      return { status: 204 };
    });
  }
  return { portal, tokens: state };
}

let uninstall: () => void = () => undefined;
let current: FakePortal | undefined;

afterEach(() => {
  uninstall();
  sessionStorage.clear();
  jest.restoreAllMocks();
  expect(current?.unanswered).toEqual([]);
});

class TokensView {
  constructor(readonly fixture: ComponentFixture<AdminPage>) {}

  get section(): HTMLElement {
    return this.fixture.nativeElement.querySelector('section[aria-labelledby="enrollment-tokens-heading"]');
  }

  get text(): string {
    return this.fixture.nativeElement.textContent.replace(/\s+/g, ' ');
  }

  rows(): { id: string; cells: string[]; buttons: string[] }[] {
    return [...this.section.querySelectorAll<HTMLTableRowElement>('tr[data-token]')].map((row) => ({
      id: row.dataset['token']!,
      cells: [...row.cells].slice(1, 7).map((c) => c.textContent!.replace(/\s+/g, ' ').trim()),
      buttons: [...row.querySelectorAll('button')].map((b) => b.textContent!.trim()),
    }));
  }

  field(label: string): HTMLInputElement {
    const labels = [...this.section.querySelectorAll('label')].filter((l) => l.textContent!.trim() === label);
    if (labels.length !== 1) throw new Error(`expected one field labelled "${label}", found ${labels.length}`);
    return (labels[0] as HTMLLabelElement).control as HTMLInputElement;
  }

  /** The texts a control's aria-describedby points at. */
  descriptionOf(control: HTMLElement): string {
    const ids = control.getAttribute('aria-describedby')!.split(' ');
    return ids.map((id) => this.section.querySelector(`#${id}`)!.textContent!.replace(/\s+/g, ' ').trim()).join(' ');
  }

  async fill(values: Record<string, string | boolean>): Promise<void> {
    for (const [label, value] of Object.entries(values)) {
      const control = this.field(label);
      if (typeof value === 'boolean') control.checked = value;
      else control.value = value;
      control.dispatchEvent(new Event(control.tagName === 'SELECT' ? 'change' : 'input'));
    }
    await settle(this.fixture);
  }

  async press(label: string): Promise<void> {
    const buttons = [...this.section.querySelectorAll<HTMLButtonElement>('button')].filter(
      (b) => (b.getAttribute('aria-label') ?? b.textContent!.trim()) === label,
    );
    if (buttons.length !== 1) throw new Error(`expected one button "${label}", found ${buttons.length}`);
    buttons[0].click();
    await settle(this.fixture);
  }

  newToken(): string | null {
    return this.section.querySelector('[aria-label="New enrollment token"]')?.textContent?.trim() ?? null;
  }

  installCommand(): string | null {
    return this.section.querySelector('pre[aria-labelledby="install-command-label"]')?.textContent ?? null;
  }

  alerts(): string[] {
    return [...this.section.querySelectorAll('[role="alert"]')].map((e) => e.textContent!.trim());
  }

  statusTexts(): string[] {
    return [...this.section.querySelectorAll('[role="status"]')].map((e) => e.textContent!.trim());
  }
}

async function settle(fixture: ComponentFixture<unknown>): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    await fixture.whenStable();
  }
}

async function renderAdminPage(portal: FakePortal): Promise<TokensView> {
  current = portal;
  sessionStorage.setItem('baton.accessToken', 'session-token');
  uninstall = portal.install();
  TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection(), provideRouter([])] });
  const fixture = TestBed.createComponent(AdminPage);
  await settle(fixture);
  return new TokensView(fixture);
}

const at = (iso: string) => new Date(iso).toLocaleString();

describe('admin page: enrollment tokens', () => {
  it('lists the tokens with status, uses, labels and times, and offers Revoke only on active ones', async () => {
    const { portal } = portalWith([
      token('tok-1', 'active', { description: 'web rollout', uses: 3, labels: { role: 'web', env: 'prod' } }),
      token('tok-2', 'used_up', { uses: 50, autoAccept: true }),
      token('tok-3', 'expired'),
      token('tok-4', 'revoked'),
    ]);
    const view = await renderAdminPage(portal);

    expect(view.section.querySelector('h2')!.textContent).toBe('Enrollment tokens');
    expect(view.rows()).toEqual([
      {
        id: 'tok-1',
        cells: [
          'active',
          '3 of 50',
          'no',
          'role=web, env=prod',
          at('2025-03-01T11:00:00.000Z'),
          `${at('2025-03-01T10:00:00.000Z')} by ada`,
        ],
        buttons: ['Revoke'],
      },
      { id: 'tok-2', cells: expect.arrayContaining(['used up', '50 of 50', 'yes']), buttons: [] },
      { id: 'tok-3', cells: expect.arrayContaining(['expired', '0 of 50']), buttons: [] },
      { id: 'tok-4', cells: expect.arrayContaining(['revoked']), buttons: [] },
    ]);
    expect(view.section.querySelector('tr[data-token="tok-1"] td')!.textContent!.replace(/\s+/g, ' ').trim()).toBe('web rollout tok-1');
    expect(view.section.querySelector('tr[data-token="tok-4"]')!.textContent).toContain(`revoked ${at('2025-03-01T10:30:00.000Z')}`);
  });

  it('warns beside the auto-accept checkbox that it admits any node holding the token', async () => {
    const view = await renderAdminPage(portalWith([]).portal);

    const autoAccept = view.field('Auto-accept');
    expect(autoAccept.type).toBe('checkbox');
    expect(autoAccept.checked).toBe(false);
    expect(view.descriptionOf(autoAccept)).toContain('anyone holding the token can join a node');
  });

  it('creates a token with what the form says, shows it once with a copy button and the install command, then never again', async () => {
    const { portal } = portalWith([]);
    const view = await renderAdminPage(portal);
    const copy = jest.spyOn(TestBed.inject(Clipboard), 'copy').mockReturnValue(true);

    await view.fill({
      'Expires in': '24h',
      'Max uses': '10',
      Labels: 'role=web, env=prod',
      Description: 'web rollout',
      'Auto-accept': true,
    });
    await view.press('Create enrollment token');

    const create = portal.sent.find((r) => r.method === 'POST')!;
    expect(create.path).toBe('/api/v1/enrollment-tokens');
    expect(create.body).toEqual({
      expiresIn: '24h',
      maxUses: 10,
      autoAccept: true,
      labels: { role: 'web', env: 'prod' },
      description: 'web rollout',
    });

    expect(view.text).toContain('Copy this enrollment token now — it is not shown again.');
    expect(view.text).toContain('They are accepted at once.');
    expect(view.newToken()).toBe(SECRET);
    expect(view.installCommand()).toBe(
      `curl -fsSL http://localhost/install/agent.sh | sudo sh -s -- --token ${SECRET} --name "$(hostname)" --labels role=web,env=prod`,
    );
    await view.press('Copy token');
    expect(copy).toHaveBeenLastCalledWith(SECRET);
    expect(view.statusTexts()).toContain('The token is copied.');

    await view.fill({ 'Node name': 'web-7' });
    expect(view.installCommand()).toBe(
      `curl -fsSL http://localhost/install/agent.sh | sudo sh -s -- --token ${SECRET} --name web-7 --labels role=web,env=prod`,
    );
    await view.press('Copy command');
    expect(copy).toHaveBeenLastCalledWith(view.installCommand());

    // The list has the new token, without its secret; the form is empty for the next one.
    expect(view.rows().map((r) => r.id)).toEqual(['tok-new']);
    expect(view.section.querySelector('table')!.textContent).not.toContain(SECRET);
    expect(view.field('Labels').value).toBe('');

    await view.press('Done');
    expect(view.newToken()).toBeNull();
    expect(view.installCommand()).toBeNull();
    expect(view.fixture.nativeElement.textContent).not.toContain(SECRET);
  });

  it('says a token without auto-accept leaves nodes waiting, and leaves out labels it does not have', async () => {
    const { portal } = portalWith([]);
    const view = await renderAdminPage(portal);

    await view.press('Create enrollment token');

    expect(portal.sent.find((r) => r.method === 'POST')!.body).toEqual({ expiresIn: '1h', maxUses: 50, autoAccept: false });
    expect(view.text).toContain('They wait on the Nodes page until an admin accepts them.');
    expect(view.installCommand()).toBe(
      `curl -fsSL http://localhost/install/agent.sh | sudo sh -s -- --token ${SECRET} --name "$(hostname)"`,
    );
  });

  it('says what is wrong with the labels and sends nothing', async () => {
    const { portal } = portalWith([]);
    const view = await renderAdminPage(portal);

    await view.fill({ Labels: 'role=web, prod' });
    await view.press('Create enrollment token');

    expect(view.alerts()).toEqual(['Labels: "prod": write each label as key=value']);
    expect(portal.sent.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it("shows the portal's refusal of a new token, and no token", async () => {
    const { portal } = portalWith([]);
    portal.on(
      'POST',
      '/api/v1/enrollment-tokens',
      apiError(400, 'Bad Request', 'labels: "rôle" is not a label key (letters, digits, "_", ".", "/" or "-")'),
    );
    const view = await renderAdminPage(portal);

    await view.fill({ Labels: 'rôle=web' });
    await view.press('Create enrollment token');

    expect(view.alerts()).toEqual(['labels: "rôle" is not a label key (letters, digits, "_", ".", "/" or "-")']);
    expect(view.newToken()).toBeNull();
  });

  it('revokes an active token once the admin confirms, and shows it revoked', async () => {
    const { portal } = portalWith([token('tok-1', 'active', { description: 'web rollout' })]);
    const view = await renderAdminPage(portal);
    const confirm = jest.spyOn(window, 'confirm').mockReturnValueOnce(false).mockReturnValueOnce(true);

    await view.press('Revoke enrollment token tok-1');
    expect(portal.sent.filter((r) => r.method === 'DELETE')).toEqual([]);

    await view.press('Revoke enrollment token tok-1');
    expect(confirm).toHaveBeenLastCalledWith(
      'Revoke enrollment token web rollout (tok-1)? No more nodes can enroll with it; agents already enrolled stay.',
    );
    expect(portal.requestLines()).toContain('DELETE /api/v1/enrollment-tokens/tok-1');
    expect(view.statusTexts()).toContain('Enrollment token web rollout (tok-1) revoked.');
    expect(view.rows()).toEqual([expect.objectContaining({ id: 'tok-1', cells: expect.arrayContaining(['revoked']), buttons: [] })]);
  });

  it("shows the portal's refusal of a revoke", async () => {
    const { portal } = portalWith([token('tok-1', 'active')]);
    portal.on('DELETE', '/api/v1/enrollment-tokens/tok-1', apiError(404, 'Not Found', 'Enrollment token tok-1 does not exist'));
    const view = await renderAdminPage(portal);
    jest.spyOn(window, 'confirm').mockReturnValue(true);

    await view.press('Revoke enrollment token tok-1');

    expect(view.alerts()).toEqual(['Enrollment token tok-1 does not exist']);
  });
});
