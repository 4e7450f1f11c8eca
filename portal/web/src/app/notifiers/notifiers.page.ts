/**
 * Notifiers (admins): where Baton sends messages about runs, alert rules and pools; each one's recent deliveries
 * from the outbox (attempts, next try, last error), a test message, enabling and disabling, deleting, and a form to
 * create one. Notifiers from files are changed in their file.
 */
import { Component, DestroyRef, inject, signal } from '@angular/core';
import { Api, ApiError, asApiError, segment } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { formatTime } from '../core/format';
import {
  DeliveryView,
  NOTIFIER_EVENTS,
  NOTIFIER_TYPES,
  NotifierView,
  deliveryStatusClass,
  describeDelivery,
  describeListening,
  describeTarget,
  notifierBody,
  type NotifierForm,
} from './notifiers';

/** While a delivery waits for an attempt, the list is asked again this often. */
const PENDING_POLL_MS = 2000;
const DELIVERIES_SHOWN = 50;

@Component({
  selector: 'baton-notifiers-page',
  imports: [ErrorNotice],
  template: `
    <h1>Notifiers</h1>
    <p class="hint">
      Where Baton tells about failed runs, lost nodes, tripped alert rules and failed pool actions. Messages go through a stored outbox:
      retried with a doubling wait, then given up as dead with the last error. See docs/notifications.md.
    </p>
    <baton-error-notice [error]="error()" />
    @if (notice(); as notice) {
      <p class="notice ok" role="status">{{ notice }}</p>
    }

    <div class="table-wrap">
      <table aria-label="Notifiers">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Sends to</th>
            <th scope="col">Listens to</th>
            <th scope="col">Waiting / dead</th>
            <th scope="col"><span class="muted">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          @for (notifier of notifiers(); track notifier.id) {
            <tr [class.selected]="notifier.id === selected()">
              <td>
                <span class="mono">{{ notifier.id }}</span>
                @if (!notifier.enabled) {
                  <span class="tag">disabled</span>
                }
                @if (notifier.sourceFile) {
                  <div class="small muted">from {{ notifier.sourceFile }}</div>
                }
              </td>
              <td>{{ notifier.type }}</td>
              <td class="mono small">{{ target(notifier) }}</td>
              <td class="small">{{ listening(notifier) }}</td>
              <td>
                {{ notifier.deliveries.pending }} /
                <span [class.field-error]="notifier.deliveries.dead > 0">{{ notifier.deliveries.dead }}</span>
              </td>
              <td class="row">
                <button
                  type="button"
                  class="small quiet"
                  (click)="showDeliveries(notifier.id)"
                  [attr.aria-pressed]="notifier.id === selected()"
                  [attr.aria-label]="'Show deliveries of ' + notifier.id"
                >
                  Deliveries
                </button>
                <button
                  type="button"
                  class="small quiet"
                  (click)="sendTest(notifier.id)"
                  [attr.aria-label]="'Send a test message to ' + notifier.id"
                >
                  Send test
                </button>
                @if (!notifier.sourceFile) {
                  <button type="button" class="small quiet" (click)="setEnabled(notifier.id, !notifier.enabled)">
                    {{ notifier.enabled ? 'Disable' : 'Enable' }}
                  </button>
                  <button
                    type="button"
                    class="small danger"
                    (click)="remove(notifier.id)"
                    [attr.aria-label]="'Delete notifier ' + notifier.id"
                  >
                    Delete
                  </button>
                }
              </td>
            </tr>
          } @empty {
            <tr>
              <td colspan="6" class="muted">No notifiers yet. Create one below, or declare one in a file (kind: Notifier).</td>
            </tr>
          }
        </tbody>
      </table>
    </div>

    <section aria-labelledby="deliveries-heading">
      <div class="page-head">
        <h2 id="deliveries-heading">Recent deliveries{{ selected() ? ' of ' + selected() : '' }}</h2>
        @if (selected()) {
          <button type="button" class="small quiet" (click)="loadDeliveries()">Refresh</button>
        }
      </div>
      @if (!selected()) {
        <p class="muted">Choose a notifier above to see what it sent.</p>
      } @else {
        <div class="table-wrap">
          <table aria-labelledby="deliveries-heading">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">What happened</th>
                <th scope="col">Last answer</th>
              </tr>
            </thead>
            <tbody>
              @for (delivery of deliveries(); track delivery.id) {
                <tr>
                  <td>
                    {{ delivery.event.title }}
                    <div class="small muted">
                      <span class="mono">{{ delivery.event.type }}</span> · {{ formatTime(delivery.event.occurredAt) }}
                    </div>
                  </td>
                  <td>
                    <span class="status" [class]="statusClass(delivery.status)">{{ delivery.status }}</span>
                  </td>
                  <td class="small">{{ describe(delivery) }}</td>
                  <td class="mono small">{{ delivery.lastStatus ?? '—' }}</td>
                </tr>
              } @empty {
                <tr>
                  <td colspan="4" class="muted">Nothing sent yet.</td>
                </tr>
              }
            </tbody>
          </table>
        </div>
      }
    </section>

    <form class="card" (submit)="create($event)" aria-labelledby="create-heading" novalidate>
      <h2 id="create-heading" style="margin-top:0">New notifier</h2>
      <p class="hint">Credentials are stored secrets (Admin → secrets, or PUT /api/v1/secrets/&#123;name&#125;); name them here.</p>
      <div class="filters">
        <div class="field">
          <label for="notifier-id">Name</label>
          <input id="notifier-id" name="id" required maxlength="64" autocomplete="off" placeholder="ops-slack" />
        </div>
        <div class="field">
          <label for="notifier-type">Type</label>
          <select id="notifier-type" name="type" (change)="type.set(valueOf($event))">
            @for (option of types; track option) {
              <option [value]="option" [selected]="option === type()">{{ option }}</option>
            }
          </select>
        </div>
        @if (type() === 'webhook') {
          <div class="field">
            <label for="notifier-url">URL</label>
            <input id="notifier-url" name="url" type="url" placeholder="https://hooks.example/baton" />
          </div>
        }
        @if (type() !== 'email') {
          <div class="field">
            <label for="notifier-url-secret">URL secret</label>
            <input
              id="notifier-url-secret"
              name="urlSecret"
              autocomplete="off"
              placeholder="ops-slack-url"
              aria-describedby="notifier-url-secret-hint"
            />
            <span id="notifier-url-secret-hint" class="hint">{{
              type() === 'webhook' ? 'or the secret holding the URL' : 'the secret holding the incoming-webhook URL'
            }}</span>
          </div>
        }
        @if (type() === 'webhook') {
          <div class="field">
            <label for="notifier-hmac">HMAC secret</label>
            <input id="notifier-hmac" name="hmacSecret" autocomplete="off" aria-describedby="notifier-hmac-hint" />
            <span id="notifier-hmac-hint" class="hint">optional: signs each body (X-Baton-Signature)</span>
          </div>
        }
        @if (type() === 'email') {
          <div class="field">
            <label for="notifier-to">To</label>
            <input id="notifier-to" name="to" placeholder="ops@example.org, oncall@example.org" />
          </div>
          <div class="field">
            <label for="notifier-from">From</label>
            <input id="notifier-from" name="from" placeholder="baton@example.org" />
          </div>
          <div class="field">
            <label for="notifier-smtp-host">SMTP host</label>
            <input id="notifier-smtp-host" name="smtpHost" placeholder="mail.example.org" />
          </div>
          <div class="field">
            <label for="notifier-smtp-port">Port</label>
            <input id="notifier-smtp-port" name="smtpPort" inputmode="numeric" placeholder="587" />
          </div>
          <div class="field">
            <label for="notifier-smtp-security">Security</label>
            <select id="notifier-smtp-security" name="smtpSecurity">
              <option value="starttls">STARTTLS (required)</option>
              <option value="tls">TLS from the start (465)</option>
            </select>
          </div>
          <div class="field">
            <label for="notifier-smtp-user">SMTP user</label>
            <input id="notifier-smtp-user" name="smtpUser" autocomplete="off" />
          </div>
          <div class="field">
            <label for="notifier-smtp-password">Password secret</label>
            <input id="notifier-smtp-password" name="smtpPasswordSecret" autocomplete="off" />
          </div>
        }
      </div>
      <fieldset>
        <legend>Listens to</legend>
        @for (event of events; track event) {
          <label class="small" style="margin-right:1rem">
            <input type="checkbox" name="on" [value]="event" [checked]="event === 'execution.failed' || event === 'execution.timed_out'" />
            {{ event }}
          </label>
        }
        <p class="hint">None: only runbooks and jobs that name it in notify: reach it.</p>
      </fieldset>
      <div class="filters">
        <div class="field">
          <label for="notifier-namespaces">Only namespaces</label>
          <input id="notifier-namespaces" name="namespaces" placeholder="ops, web" />
        </div>
        <div class="field">
          <label for="notifier-runbooks">Only runbooks</label>
          <input id="notifier-runbooks" name="runbooks" placeholder="web.restart-nginx" />
        </div>
      </div>
      <button type="submit">Create notifier</button>
    </form>
  `,
  styles: `
    tr.selected td {
      background: var(--bg);
    }
    fieldset {
      border: none;
      padding: 0;
      margin: 0.75rem 0;
    }
  `,
})
export class NotifiersPage {
  protected readonly notifiers = signal<NotifierView[]>([]);
  protected readonly deliveries = signal<DeliveryView[]>([]);
  protected readonly selected = signal<string | null>(null);
  protected readonly type = signal<NotifierForm['type']>('webhook');
  protected readonly error = signal<ApiError | null>(null);
  protected readonly notice = signal<string | null>(null);
  protected readonly types = NOTIFIER_TYPES;
  protected readonly events = NOTIFIER_EVENTS;
  protected readonly formatTime = formatTime;
  protected readonly target = describeTarget;
  protected readonly listening = describeListening;
  protected readonly statusClass = deliveryStatusClass;
  private readonly api = inject(Api);
  private pollTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    inject(DestroyRef).onDestroy(() => clearTimeout(this.pollTimer));
    void this.reload();
  }

  protected valueOf(event: Event): NotifierForm['type'] {
    return (event.target as HTMLSelectElement).value as NotifierForm['type'];
  }

  protected describe(delivery: DeliveryView): string {
    return describeDelivery(delivery, formatTime);
  }

  protected showDeliveries(id: string): void {
    this.selected.set(id);
    this.deliveries.set([]);
    void this.loadDeliveries();
  }

  protected async loadDeliveries(): Promise<void> {
    clearTimeout(this.pollTimer);
    const id = this.selected();
    if (!id) return;
    try {
      const deliveries = await this.api.getJson<DeliveryView[]>(`/notifiers/${segment(id)}/deliveries?limit=${DELIVERIES_SHOWN}`);
      if (this.selected() !== id) return;
      this.deliveries.set(deliveries);
      // Attempts happen in the background: look again while any delivery still waits for one.
      if (deliveries.some((d) => d.status === 'pending')) this.pollTimer = setTimeout(() => void this.loadDeliveries(), PENDING_POLL_MS);
    } catch (error) {
      this.error.set(asApiError(error));
    }
  }

  protected async create(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const field = (name: string) => String(data.get(name) ?? '');
    const built = notifierBody({
      id: field('id'),
      type: this.type(),
      url: field('url'),
      urlSecret: field('urlSecret'),
      hmacSecret: field('hmacSecret'),
      to: field('to'),
      from: field('from'),
      smtpHost: field('smtpHost'),
      smtpPort: field('smtpPort'),
      smtpSecurity: field('smtpSecurity'),
      smtpUser: field('smtpUser'),
      smtpPasswordSecret: field('smtpPasswordSecret'),
      on: data.getAll('on').map(String),
      namespaces: field('namespaces'),
      runbooks: field('runbooks'),
    });
    if ('problems' in built) {
      this.notice.set(null);
      this.error.set(new ApiError('The notifier is not complete yet.', 400, built.problems));
      return;
    }
    await this.act(`Notifier ${String(built.body['id'])} created.`, async () => {
      await this.api.postJson('/notifiers', built.body);
      form.reset();
      this.type.set('webhook');
    });
  }

  protected async sendTest(id: string): Promise<void> {
    await this.act(`Test message to ${id} queued; its delivery shows below.`, async () => {
      await this.api.postJson(`/notifiers/${segment(id)}/test`, {});
      this.selected.set(id);
    });
  }

  protected async setEnabled(id: string, isEnabled: boolean): Promise<void> {
    await this.act(`Notifier ${id} ${isEnabled ? 'enabled' : 'disabled'}.`, () =>
      this.api.patchJson(`/notifiers/${segment(id)}`, { enabled: isEnabled }),
    );
  }

  protected async remove(id: string): Promise<void> {
    if (!confirm(`Delete notifier ${id}? Messages still waiting for it are given up; its delivery history stays.`)) return;
    await this.act(`Notifier ${id} deleted.`, async () => {
      await this.api.delete(`/notifiers/${segment(id)}`);
      if (this.selected() === id) this.selected.set(null);
    });
  }

  /** Runs one change, shows its outcome, and reloads the list and the selected deliveries. */
  private async act(success: string, change: () => Promise<unknown>): Promise<void> {
    this.error.set(null);
    this.notice.set(null);
    try {
      await change();
      this.notice.set(success);
    } catch (error) {
      this.error.set(asApiError(error));
    }
    await this.reload();
  }

  private async reload(): Promise<void> {
    try {
      this.notifiers.set(await this.api.getJson<NotifierView[]>('/notifiers'));
    } catch (error) {
      this.error.set(asApiError(error));
    }
    await this.loadDeliveries();
  }
}
