/**
 * Enrollment tokens on the Admin page: the tokens with their status and uses (Revoke on an active one), the form that
 * creates one, and the new token with its install command, shown once.
 */
import { Component, inject, signal } from '@angular/core';
import { ApiError, asApiError } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { formatTime } from '../core/format';
import { formatLabels } from '../nodes/node';
import { CreatedEnrollmentTokenNotice } from './created-enrollment-token';
import { EnrollmentTokenForm } from './enrollment-token-form';
import { CreatedEnrollmentToken, EnrollmentToken, STATUS_WORDS } from './enrollment-tokens';
import { EnrollmentTokensApi } from './enrollment-tokens-api';

@Component({
  selector: 'baton-enrollment-tokens',
  imports: [CreatedEnrollmentTokenNotice, EnrollmentTokenForm, ErrorNotice],
  template: `
    <section aria-labelledby="enrollment-tokens-heading">
      <h2 id="enrollment-tokens-heading">Enrollment tokens</h2>
      <p class="hint">
        An agent installed with a token asks to enroll; it waits on the Nodes page until an admin accepts it, unless the token auto-accepts.
      </p>
      <baton-error-notice [error]="error()" />
      @if (notice(); as notice) {
        <p class="notice ok" role="status">{{ notice }}</p>
      }
      @if (created(); as newToken) {
        <baton-created-enrollment-token [token]="newToken" (done)="created.set(null)" />
      }
      <div class="table-wrap">
        <table aria-labelledby="enrollment-tokens-heading">
          <thead>
            <tr>
              <th scope="col">Token</th>
              <th scope="col">Status</th>
              <th scope="col">Uses</th>
              <th scope="col">Auto-accept</th>
              <th scope="col">Labels</th>
              <th scope="col">Expires</th>
              <th scope="col">Created</th>
              <th scope="col"><span class="muted">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            @for (token of tokens(); track token.id) {
              <tr [attr.data-token]="token.id">
                <td>
                  {{ token.description ?? '' }} <span class="mono small muted">{{ token.id }}</span>
                </td>
                <td>
                  <span class="status" [class]="token.status">{{ statusWords[token.status] }}</span>
                </td>
                <td>{{ token.uses }} of {{ token.maxUses }}</td>
                <td>{{ token.autoAccept ? 'yes' : 'no' }}</td>
                <td class="mono small">{{ formatLabels(token.labels) }}</td>
                <td>{{ formatTime(token.expiresAt) }}</td>
                <td>
                  {{ formatTime(token.createdAt) }} <span class="small muted">by {{ token.createdBy }}</span>
                </td>
                <td>
                  @if (token.status === 'active') {
                    <button
                      type="button"
                      class="small danger"
                      [attr.aria-label]="'Revoke enrollment token ' + token.id"
                      (click)="revoke(token)"
                    >
                      Revoke
                    </button>
                  } @else if (token.revokedAt) {
                    <span class="muted small">revoked {{ formatTime(token.revokedAt) }}</span>
                  }
                </td>
              </tr>
            } @empty {
              <tr>
                <td colspan="8" class="muted">No enrollment tokens.</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
      <baton-enrollment-token-form (created)="show($event)" />
    </section>
  `,
})
export class EnrollmentTokensSection {
  protected readonly tokens = signal<EnrollmentToken[]>([]);
  protected readonly created = signal<CreatedEnrollmentToken | null>(null);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly notice = signal<string | null>(null);
  protected readonly statusWords = STATUS_WORDS;
  protected readonly formatLabels = formatLabels;
  protected readonly formatTime = formatTime;
  private readonly tokensApi = inject(EnrollmentTokensApi);

  constructor() {
    void this.load();
  }

  protected async show(token: CreatedEnrollmentToken): Promise<void> {
    this.notice.set(null);
    this.created.set(token);
    await this.load();
  }

  protected async revoke(token: EnrollmentToken): Promise<void> {
    const name = token.description ? `${token.description} (${token.id})` : token.id;
    if (!confirm(`Revoke enrollment token ${name}? No more nodes can enroll with it; agents already enrolled stay.`)) return;
    this.error.set(null);
    this.notice.set(null);
    try {
      await this.tokensApi.revoke(token.id);
      this.notice.set(`Enrollment token ${name} revoked.`);
    } catch (error) {
      this.error.set(asApiError(error));
    }
    await this.load();
  }

  private async load(): Promise<void> {
    try {
      this.tokens.set(await this.tokensApi.list());
    } catch (error) {
      this.error.set(asApiError(error));
    }
  }
}
