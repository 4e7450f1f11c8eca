/**
 * Administration for admins: users and their roles, API tokens (the secret shown once), enrollment tokens for agents,
 * and secrets (names only).
 */
import { Component, inject, signal } from '@angular/core';
import { Api, ApiError, asApiError, segment } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { formatTime } from '../core/format';
import { Me } from '../core/me';
import { RoleGrant, formatRoleGrants, parseRoleGrants } from '../core/permissions';
import { EnrollmentTokensSection } from './enrollment-tokens-section';

interface UserView {
  username: string;
  roles: RoleGrant[];
  source: string;
  createdAt: string;
}

interface TokenView {
  id: string;
  name: string;
  username: string;
  roles: RoleGrant[] | 'inherited';
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

interface SecretView {
  name: string;
  setBy: string;
  updatedAt: string;
}

const ROLES_HINT = 'Comma-separated roles, each global or role:namespace — e.g. "operator, viewer:web".';

@Component({
  selector: 'baton-admin-page',
  imports: [EnrollmentTokensSection, ErrorNotice],
  template: `
    <h1>Admin</h1>
    <baton-error-notice [error]="error()" />
    @if (notice(); as notice) {
      <p class="notice ok" role="status">{{ notice }}</p>
    }

    <section aria-labelledby="users-heading">
      <h2 id="users-heading">Users and roles</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Roles</th>
              <th scope="col">Source</th>
              <th scope="col">Created</th>
              <th scope="col"><span class="muted">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            @for (user of users(); track user.username) {
              <tr>
                <td>{{ user.username }}</td>
                <td>
                  @if (editing() === user.username) {
                    <form class="row" (submit)="saveRoles($event, user.username)">
                      <label class="sr-only" [for]="'roles-' + user.username">Roles of {{ user.username }}</label>
                      <input
                        [id]="'roles-' + user.username"
                        [value]="editRoles()"
                        (input)="editRoles.set(textOf($event))"
                        [attr.aria-describedby]="'roles-hint'"
                      />
                      <button type="submit" class="small">Save roles</button>
                      <button type="button" class="small quiet" (click)="editing.set(null)">Cancel</button>
                    </form>
                  } @else {
                    <span class="mono">{{ format(user.roles) }}</span>
                  }
                </td>
                <td>{{ user.source }}</td>
                <td>{{ formatTime(user.createdAt) }}</td>
                <td class="row">
                  <button
                    type="button"
                    class="small quiet"
                    (click)="startEditing(user)"
                    [attr.aria-label]="'Change roles of ' + user.username"
                  >
                    Change roles
                  </button>
                  <button
                    type="button"
                    class="small danger"
                    (click)="deleteUser(user.username)"
                    [disabled]="user.username === me.principal()?.username"
                    [attr.aria-label]="'Delete user ' + user.username"
                  >
                    Delete
                  </button>
                </td>
              </tr>
            }
          </tbody>
        </table>
      </div>
      <p id="roles-hint" class="hint">{{ rolesHint }}</p>
      <form class="card filters" (submit)="createUser($event)" aria-labelledby="new-user-heading">
        <h3 id="new-user-heading" style="flex-basis:100%;margin:0">New user</h3>
        <div class="field">
          <label for="new-username">Username</label><input id="new-username" name="username" required autocomplete="off" />
        </div>
        <div class="field">
          <label for="new-password">Password</label
          ><input
            id="new-password"
            name="password"
            type="password"
            required
            minlength="12"
            autocomplete="new-password"
            aria-describedby="new-password-hint"
          /><span id="new-password-hint" class="hint">At least 12 characters.</span>
        </div>
        <div class="field">
          <label for="new-roles">Roles</label><input id="new-roles" name="roles" value="viewer" aria-describedby="roles-hint" />
        </div>
        <button type="submit">Create user</button>
      </form>
    </section>

    <section aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">API tokens</h2>
      @if (newToken(); as token) {
        <div class="notice ok" role="status">
          <p style="margin-top:0"><strong>Copy this token now — it is not shown again.</strong></p>
          <p class="token-once" aria-label="New API token">{{ token }}</p>
          <div class="row">
            <button type="button" class="small" (click)="copy(token)">Copy token</button>
            <button type="button" class="small quiet" (click)="newToken.set(null)">Done</button>
          </div>
        </div>
      }
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">User</th>
              <th scope="col">Roles</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col"><span class="muted">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            @for (token of tokens(); track token.id) {
              <tr>
                <td>
                  {{ token.name }} <span class="mono small muted">{{ token.id }}</span>
                </td>
                <td>{{ token.username }}</td>
                <td class="mono small">{{ token.roles === 'inherited' ? 'as the user' : format(token.roles) }}</td>
                <td>{{ formatTime(token.createdAt) }}</td>
                <td>{{ formatTime(token.lastUsedAt) }}</td>
                <td>{{ token.expiresAt ? formatTime(token.expiresAt) : 'never' }}</td>
                <td>
                  @if (token.revokedAt) {
                    <span class="muted small">revoked {{ formatTime(token.revokedAt) }}</span>
                  } @else {
                    <button type="button" class="small danger" (click)="revoke(token)" [attr.aria-label]="'Revoke token ' + token.name">
                      Revoke
                    </button>
                  }
                </td>
              </tr>
            } @empty {
              <tr>
                <td colspan="7" class="muted">No API tokens.</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
      <form class="card filters" (submit)="createToken($event)" aria-labelledby="new-token-heading">
        <h3 id="new-token-heading" style="flex-basis:100%;margin:0">New API token (for yourself)</h3>
        <div class="field">
          <label for="token-name">Token name</label><input id="token-name" name="name" required placeholder="deploy script" />
        </div>
        <div class="field"><label for="token-expires">Expires</label><input id="token-expires" name="expiresAt" type="date" /></div>
        <div class="field">
          <label for="token-roles">Roles (empty: yours)</label><input id="token-roles" name="roles" aria-describedby="roles-hint" />
        </div>
        <button type="submit">Create token</button>
      </form>
    </section>

    <baton-enrollment-tokens />

    <section aria-labelledby="secrets-heading">
      <h2 id="secrets-heading">Secrets</h2>
      <p class="hint">Values are never shown; set a name again to replace its value.</p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Set by</th>
              <th scope="col">Updated</th>
              <th scope="col"><span class="muted">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            @for (secret of secrets(); track secret.name) {
              <tr>
                <td class="mono">{{ secret.name }}</td>
                <td>{{ secret.setBy }}</td>
                <td>{{ formatTime(secret.updatedAt) }}</td>
                <td class="row">
                  <button
                    type="button"
                    class="small quiet"
                    (click)="prepareReplace(secret.name)"
                    [attr.aria-label]="'Replace secret ' + secret.name"
                  >
                    Replace
                  </button>
                  <button
                    type="button"
                    class="small danger"
                    (click)="deleteSecret(secret.name)"
                    [attr.aria-label]="'Delete secret ' + secret.name"
                  >
                    Delete
                  </button>
                </td>
              </tr>
            } @empty {
              <tr>
                <td colspan="4" class="muted">No secrets.</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
      <form class="card filters" (submit)="putSecret($event)" aria-labelledby="secret-form-heading">
        <h3 id="secret-form-heading" style="flex-basis:100%;margin:0">Set a secret</h3>
        <div class="field">
          <label for="secret-name">Secret name</label
          ><input
            id="secret-name"
            name="name"
            required
            [value]="secretName()"
            (input)="secretName.set(textOf($event))"
            placeholder="demo-token"
          />
        </div>
        <div class="field">
          <label for="secret-value">Secret value</label
          ><input id="secret-value" name="value" type="password" required minlength="4" autocomplete="off" />
        </div>
        <button type="submit">Set secret</button>
      </form>
    </section>
  `,
  styles: `
    .sr-only {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
    }
  `,
})
export class AdminPage {
  protected readonly me = inject(Me);
  protected readonly users = signal<UserView[]>([]);
  protected readonly tokens = signal<TokenView[]>([]);
  protected readonly secrets = signal<SecretView[]>([]);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly notice = signal<string | null>(null);
  protected readonly editing = signal<string | null>(null);
  protected readonly editRoles = signal('');
  protected readonly newToken = signal<string | null>(null);
  protected readonly secretName = signal('');
  protected readonly rolesHint = ROLES_HINT;
  protected readonly formatTime = formatTime;
  protected readonly format = formatRoleGrants;
  private readonly api = inject(Api);

  constructor() {
    void this.reload();
  }

  protected textOf(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected startEditing(user: UserView): void {
    this.editing.set(user.username);
    this.editRoles.set(formatRoleGrants(user.roles));
  }

  protected async saveRoles(event: Event, username: string): Promise<void> {
    event.preventDefault();
    const parsed = parseRoleGrants(this.editRoles());
    if ('error' in parsed) return this.fail(parsed.error);
    await this.act(`Roles of ${username} changed.`, async () => {
      await this.api.patchJson(`/users/${segment(username)}`, { roles: parsed.grants });
      this.editing.set(null);
    });
  }

  protected async createUser(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const parsed = parseRoleGrants(String(data.get('roles') ?? ''));
    if ('error' in parsed) return this.fail(parsed.error);
    const username = String(data.get('username'));
    await this.act(`User ${username} created.`, async () => {
      await this.api.postJson('/users', { username, password: String(data.get('password')), roles: parsed.grants });
      form.reset();
    });
  }

  protected async deleteUser(username: string): Promise<void> {
    if (!confirm(`Delete user ${username}? Their sessions end at once.`)) return;
    await this.act(`User ${username} deleted.`, () => this.api.delete(`/users/${segment(username)}`));
  }

  protected async createToken(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const body: Record<string, unknown> = { name: String(data.get('name')) };
    const expires = String(data.get('expiresAt') ?? '');
    if (expires) body['expiresAt'] = new Date(`${expires}T23:59:59`).toISOString();
    const rolesText = String(data.get('roles') ?? '').trim();
    if (rolesText) {
      const parsed = parseRoleGrants(rolesText);
      if ('error' in parsed) return this.fail(parsed.error);
      body['roles'] = parsed.grants;
    }
    await this.act(null, async () => {
      const created = await this.api.postJson<{ token: string }>('/auth/tokens', body);
      this.newToken.set(created.token);
      form.reset();
    });
  }

  protected async revoke(token: TokenView): Promise<void> {
    if (!confirm(`Revoke token ${token.name}? Scripts using it stop working.`)) return;
    await this.act(`Token ${token.name} revoked.`, () => this.api.delete(`/auth/tokens/${segment(token.id)}`));
  }

  protected prepareReplace(name: string): void {
    this.secretName.set(name);
    document.getElementById('secret-value')?.focus();
  }

  protected async putSecret(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get('name'));
    await this.act(`Secret ${name} set.`, async () => {
      await this.api.putJson(`/secrets/${segment(name)}`, { value: String(data.get('value')) });
      form.reset();
      this.secretName.set('');
    });
  }

  protected async deleteSecret(name: string): Promise<void> {
    if (!confirm(`Delete secret ${name}? Runbooks that use it will fail.`)) return;
    await this.act(`Secret ${name} deleted.`, () => this.api.delete(`/secrets/${segment(name)}`));
  }

  protected copy(text: string): void {
    void navigator.clipboard?.writeText(text);
  }

  /** Runs one change, shows its outcome, and reloads the lists. */
  private async act(success: string | null, change: () => Promise<unknown>): Promise<void> {
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

  private fail(message: string): void {
    this.error.set(new ApiError(message, 400));
  }

  private async reload(): Promise<void> {
    const [users, tokens, secrets] = await Promise.allSettled([
      this.api.getJson<UserView[]>('/users'),
      this.api.getJson<TokenView[]>('/auth/tokens?all=1'),
      this.api.getJson<SecretView[]>('/secrets'),
    ]);
    if (users.status === 'fulfilled') this.users.set(users.value);
    if (tokens.status === 'fulfilled') this.tokens.set(tokens.value);
    if (secrets.status === 'fulfilled') this.secrets.set(secrets.value);
    const failure = [users, tokens, secrets].find((r) => r.status === 'rejected');
    if (failure && failure.status === 'rejected') this.error.set(asApiError(failure.reason));
  }
}
