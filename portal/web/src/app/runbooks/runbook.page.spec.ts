/** @jest-environment jsdom */
import '../../testing/test-bed';
import { provideZonelessChangeDetection, signal } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import type { ParamSpec } from '@baton/shared';
import { validateParams } from '@baton/shared/params';
import { Api, ApiError } from '../core/api';
import { Me } from '../core/me';
import { Principal } from '../core/permissions';
import { RunbookDetail } from './runbook';
import { RunbookPage } from './runbook.page';

const SPECS: Record<string, ParamSpec> = {
  reason: { type: 'string', required: true, pattern: '^.{5,200}$', description: 'Why, for the audit log' },
  drain_seconds: { type: 'integer', default: 10, min: 0, max: 300 },
  dry_run: { type: 'boolean', default: true },
  channel: { type: 'enum', values: ['stable', 'canary'], default: 'stable' },
  password: { type: 'secret', required: true },
};

const RUNBOOK: RunbookDetail = {
  id: 'web.restart-nginx',
  title: 'Restart nginx',
  access: { run: ['operator'] },
  params: SPECS,
  targets: { labels: { role: 'web' } },
  steps: [{ id: 'restart', run: 'systemctl restart nginx' }],
  version: '1',
};

const OPERATOR: Principal = { username: 'olga', roles: [{ role: 'operator' }] };
const VIEWER: Principal = { username: 'vera', roles: [{ role: 'viewer' }] };

/** What `validateParams`, the API's check, says about one parameter of this body. */
function apiMessage(params: Record<string, unknown>, name: string): string {
  const result = validateParams(SPECS, params);
  const error = result.ok ? undefined : result.errors.find((e) => e.field === `params.${name}`);
  if (!error) throw new Error(`the API accepts ${name} in ${JSON.stringify(params)}`);
  return error.message;
}

/** The API as the page uses it: the runbook, its nodes and runs, and the POST that starts an execution. */
function fakeApi(runbook: RunbookDetail = RUNBOOK) {
  return {
    getJson: jest.fn(async (path: string): Promise<unknown> => {
      if (path === '/runbooks/web.restart-nginx') return runbook;
      if (path === '/nodes') return [];
      if (path.startsWith('/executions?')) return [];
      throw new Error(`unexpected GET ${path}`);
    }),
    postJson: jest.fn(async (_path: string, _body: unknown): Promise<unknown> => ({ id: 'exec-42', status: 'queued' })),
  };
}

class RunbookForm {
  constructor(readonly fixture: ComponentFixture<RunbookPage>) {}

  get element(): HTMLElement {
    return this.fixture.nativeElement;
  }

  /** The form control a person finds by this label, as a screen reader names it. */
  field<T extends HTMLElement = HTMLInputElement>(label: string): T {
    const labels = [...this.element.querySelectorAll('form label')].filter((l) => l.textContent!.replace(/\s+/g, ' ').trim() === label);
    if (labels.length !== 1) throw new Error(`expected one field labelled "${label}", found ${labels.length}`);
    const control = (labels[0] as HTMLLabelElement).control;
    if (!control) throw new Error(`the label "${label}" names no control`);
    return control as T;
  }

  /** The texts a control's aria-describedby points at. */
  descriptionOf(control: HTMLElement): string[] {
    const ids = control.getAttribute('aria-describedby')?.split(' ') ?? [];
    return ids.map((id) => this.element.querySelector(`#${id}`)?.textContent?.trim() ?? `(no element #${id})`);
  }

  get runButton(): HTMLButtonElement {
    return [...this.element.querySelectorAll<HTMLButtonElement>('form button')].find((b) => b.textContent!.trim() === 'Run')!;
  }

  shownErrors(): string[] {
    return [...this.element.querySelectorAll('form .field .field-error')].map((e) => e.textContent!.trim());
  }

  async type(label: string, text: string): Promise<void> {
    const input = this.field(label);
    input.value = text;
    input.dispatchEvent(new Event('input'));
    await this.fixture.whenStable();
  }

  async leave(label: string): Promise<void> {
    this.field(label).dispatchEvent(new FocusEvent('blur'));
    await this.fixture.whenStable();
  }

  async choose(label: string, value: string): Promise<void> {
    const select = this.field<HTMLSelectElement>(label);
    select.value = value;
    select.dispatchEvent(new Event('change'));
    await this.fixture.whenStable();
  }

  async toggle(label: string): Promise<void> {
    this.field(label).click();
    await this.fixture.whenStable();
  }

  async pressRun(): Promise<void> {
    this.runButton.click();
    await this.fixture.whenStable();
  }
}

async function renderRunbookPage(principal: Principal, api = fakeApi()): Promise<RunbookForm> {
  TestBed.configureTestingModule({
    providers: [
      provideZonelessChangeDetection(),
      provideRouter([]),
      { provide: Api, useValue: api },
      { provide: Me, useValue: { principal: signal(principal).asReadonly(), load: async () => principal } },
    ],
  });
  const fixture = TestBed.createComponent(RunbookPage);
  fixture.componentRef.setInput('id', 'web.restart-nginx');
  await fixture.whenStable();
  const form = new RunbookForm(fixture);
  if (!form.element.querySelector('form')) throw new Error(`the page shows no form: ${form.element.textContent}`);
  return form;
}

describe('runbook page: parameter form', () => {
  it('gives every parameter a labelled field of its kind, filled with its default', async () => {
    const form = await renderRunbookPage(OPERATOR);

    const reason = form.field('reason (required)');
    expect(reason.type).toBe('text');
    expect(reason.required).toBe(true);
    expect(reason.value).toBe('');
    expect(form.descriptionOf(reason)).toEqual(['Why, for the audit log']);

    const drainSeconds = form.field('drain_seconds');
    expect(drainSeconds.value).toBe('10');
    expect(drainSeconds.getAttribute('inputmode')).toBe('numeric');
    expect(drainSeconds.placeholder).toBe('≥ 0, ≤ 300');

    const dryRun = form.field('dry_run');
    expect(dryRun.type).toBe('checkbox');
    expect(dryRun.checked).toBe(true);

    const channel = form.field<HTMLSelectElement>('channel');
    expect(channel.tagName).toBe('SELECT');
    expect([...channel.options].map((o) => o.value)).toEqual(['', 'stable', 'canary']);
    expect(channel.value).toBe('stable');

    const password = form.field('password (required)');
    expect(password.type).toBe('password');
    expect(password.getAttribute('autocomplete')).toBe('off');
    expect(password.value).toBe('');

    expect(form.shownErrors()).toEqual([]); // nothing is wrong before the person has touched anything
  });

  it('shows, under each field the person changed or left, the message the API would give', async () => {
    const form = await renderRunbookPage(OPERATOR);

    await form.type('reason (required)', 'abc');
    expect(form.shownErrors()).toEqual(['reason must match ^.{5,200}$ (got "abc")']);
    expect(form.shownErrors()).toEqual([`reason ${apiMessage({ reason: 'abc' }, 'reason')}`]);
    const reason = form.field('reason (required)');
    expect(reason.getAttribute('aria-invalid')).toBe('true');
    expect(form.descriptionOf(reason)).toEqual(['Why, for the audit log', 'reason must match ^.{5,200}$ (got "abc")']);

    await form.type('drain_seconds', '301');
    expect(form.shownErrors()).toContain(`drain_seconds ${apiMessage({ drain_seconds: 301 }, 'drain_seconds')}`);
    await form.type('drain_seconds', 'ten');
    expect(form.shownErrors()).toContain(`drain_seconds ${apiMessage({ drain_seconds: 'ten' }, 'drain_seconds')}`);
    expect(form.shownErrors()).toContain('drain_seconds must be a whole number (got "ten")');

    await form.leave('password (required)');
    expect(form.shownErrors()).toContain(`password ${apiMessage({}, 'password')}`);
    await form.type('password (required)', 'abc');
    const passwordError = form.shownErrors().find((e) => e.startsWith('password '));
    expect(passwordError).toBe(`password ${apiMessage({ password: 'abc' }, 'password')}`);
    expect(passwordError).not.toContain('abc'); // a secret's message never shows the value

    await form.type('reason (required)', 'kernel update');
    await form.type('drain_seconds', '0');
    await form.type('password (required)', 'hunter22');
    expect(form.shownErrors()).toEqual([]);
    expect(form.field('reason (required)').hasAttribute('aria-invalid')).toBe(false);
  });

  it('sends nothing while a field is wrong, and says how many to fix', async () => {
    const api = fakeApi();
    const form = await renderRunbookPage(OPERATOR, api);

    await form.pressRun();

    expect(api.postJson).not.toHaveBeenCalled();
    expect(form.shownErrors()).toEqual([`reason ${apiMessage({}, 'reason')}`, `password ${apiMessage({}, 'password')}`]);
    expect(form.element.querySelector('[role="alert"]')!.textContent!.trim()).toBe('Fix 2 fields first.');
    // Run stays enabled: pressing it is how a person finds every problem at once.
    expect(form.runButton.disabled).toBe(false);
  });

  it('disables Run, and says why, for someone whose roles may not run the runbook', async () => {
    const api = fakeApi();
    const form = await renderRunbookPage(VIEWER, api);

    expect(form.runButton.disabled).toBe(true);
    expect(form.descriptionOf(form.runButton)).toEqual(['Only these roles may run this runbook: operator (and admins).']);
    await form.type('reason (required)', 'kernel update');
    await form.type('password (required)', 'hunter22');
    await form.pressRun();
    expect(api.postJson).not.toHaveBeenCalled();
  });

  it('starts the execution with the params the API expects, typed, and opens it', async () => {
    const api = fakeApi();
    const form = await renderRunbookPage(OPERATOR, api);
    const navigate = jest.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);

    await form.type('reason (required)', 'kernel update');
    await form.type('drain_seconds', '30');
    await form.toggle('dry_run');
    await form.choose('channel', 'canary');
    await form.type('password (required)', 'hunter22');
    expect(form.runButton.disabled).toBe(false);
    await form.pressRun();

    const params = { reason: 'kernel update', drain_seconds: 30, dry_run: false, channel: 'canary', password: 'hunter22' };
    expect(api.postJson).toHaveBeenCalledTimes(1);
    expect(api.postJson).toHaveBeenCalledWith('/runbooks/web.restart-nginx/executions', { params });
    expect(validateParams(SPECS, params)).toEqual({ ok: true, values: params });
    expect(navigate).toHaveBeenCalledWith(['/executions', 'exec-42']);
  });

  it('leaves untouched optional fields to their defaults', async () => {
    const api = fakeApi();
    const form = await renderRunbookPage(OPERATOR, api);
    jest.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);

    await form.type('reason (required)', 'patch day');
    await form.choose('channel', '');
    await form.type('password (required)', 'hunter22');
    await form.pressRun();

    const [, body] = api.postJson.mock.calls[0];
    expect(body).toEqual({ params: { reason: 'patch day', drain_seconds: 10, dry_run: true, password: 'hunter22' } });
    const checked = validateParams(SPECS, (body as { params: unknown }).params);
    expect(checked.ok && checked.values['channel']).toBe('stable'); // the API fills in the default
  });
});

describe('runbook page: runs that wait or are refused', () => {
  async function fillRequired(form: RunbookForm): Promise<void> {
    await form.type('reason (required)', 'kernel update');
    await form.type('password (required)', 'hunter22');
  }

  it('says above Run when runs wait for approval, and by whom', async () => {
    const approval = {
      required: 2,
      approvers: { roles: ['editor'], users: ['carol'] },
      when: { param: 'channel', in: ['stable'] },
      timeout: '4h',
      selfApproval: false,
    };
    const form = await renderRunbookPage(OPERATOR, fakeApi({ ...RUNBOOK, approval }));

    expect(form.descriptionOf(form.runButton)).toEqual([
      'Runs with channel = stable wait for 2 approvals from role editor, user carol, or an admin before they start, and time out undecided after 4h.',
    ]);
  });

  it("says beside Run that a full queue (429) did not start the run, in the portal's words", async () => {
    const api = fakeApi();
    const message = '12 executions are waiting to start (the queue holds 10): retry in 8 s';
    api.postJson.mockRejectedValue(new ApiError(message, 429, { retryAfterSeconds: 8 }));
    const form = await renderRunbookPage(OPERATOR, api);
    const navigate = jest.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);

    await fillRequired(form);
    await form.pressRun();
    await form.fixture.whenStable();

    const refusal = form.element.querySelector('#run-not-started')!;
    expect(refusal.getAttribute('role')).toBe('alert');
    expect(refusal.textContent!.replace(/\s+/g, ' ').trim()).toBe(`Not started: the queue is full. ${message}`);
    expect(form.descriptionOf(form.runButton)).toContain(refusal.textContent!.trim());
    expect(form.element.textContent).not.toContain('retryAfterSeconds');
    expect(navigate).not.toHaveBeenCalled();
    expect(form.runButton.disabled).toBe(false); // pressing again later is how one retries
  });

  it("says beside Run that the runbook's concurrency limit refused the run (409)", async () => {
    const api = fakeApi();
    const message = 'web.restart-nginx: 1 run(s) already queued or running, the runbook allows 1 (concurrency.onLimit: refuse)';
    api.postJson.mockRejectedValueOnce(new ApiError(message, 409));
    const form = await renderRunbookPage(OPERATOR, api);
    jest.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);

    await fillRequired(form);
    await form.pressRun();
    await form.fixture.whenStable();

    expect(form.element.querySelector('#run-not-started')!.textContent!.replace(/\s+/g, ' ').trim()).toBe(
      `Not started: too many runs of this runbook at once. ${message}`,
    );

    await form.pressRun(); // the other run ended: this time the portal takes it
    await form.fixture.whenStable();
    expect(form.element.querySelector('#run-not-started')).toBeNull();
  });
});
