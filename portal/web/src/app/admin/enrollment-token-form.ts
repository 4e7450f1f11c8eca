/**
 * The form that creates an enrollment token: how long it lasts, how many nodes may use it, whether it accepts them at
 * once, the labels it gives them, and a description. Emits the created token (with its secret, this once).
 */
import { Component, inject, output, signal } from '@angular/core';
import { ApiError, asApiError } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { CreatedEnrollmentToken, EXPIRY_CHOICES, NewEnrollmentToken, parseLabels } from './enrollment-tokens';
import { EnrollmentTokensApi } from './enrollment-tokens-api';

@Component({
  selector: 'baton-enrollment-token-form',
  imports: [ErrorNotice],
  template: `
    <form class="card filters" (submit)="create($event)" aria-labelledby="new-enrollment-token-heading">
      <h3 id="new-enrollment-token-heading" style="flex-basis:100%;margin:0">Create an enrollment token</h3>
      <div style="flex-basis:100%"><baton-error-notice [error]="error()" /></div>
      <div class="field">
        <label for="enrollment-expires">Expires in</label>
        <select id="enrollment-expires" name="expiresIn">
          @for (choice of expiryChoices; track choice.expiresIn) {
            <option [value]="choice.expiresIn" [attr.selected]="choice.expiresIn === '1h' ? '' : null">{{ choice.label }}</option>
          }
        </select>
      </div>
      <div class="field">
        <label for="enrollment-max-uses">Max uses</label>
        <input id="enrollment-max-uses" name="maxUses" type="number" inputmode="numeric" min="1" max="10000" step="1" value="50" required />
      </div>
      <div class="field">
        <label for="enrollment-labels">Labels</label>
        <input id="enrollment-labels" name="labels" placeholder="role=web, env=prod" aria-describedby="enrollment-labels-hint" />
        <span id="enrollment-labels-hint" class="hint">key=value pairs, given to every node that enrolls with it</span>
      </div>
      <div class="field">
        <label for="enrollment-description">Description</label>
        <input id="enrollment-description" name="description" maxlength="200" placeholder="web nodes, March rollout" />
      </div>
      <div class="field" style="flex-basis:100%">
        <label class="check" for="enrollment-auto-accept">
          <input id="enrollment-auto-accept" name="autoAccept" type="checkbox" aria-describedby="enrollment-auto-accept-hint" />
          Auto-accept
        </label>
        <span id="enrollment-auto-accept-hint" class="hint">
          Accepts every node that enrolls with it at once, with no admin comparing fingerprints: anyone holding the token can join a node.
          Keep such a token short-lived and its uses few.
        </span>
      </div>
      <button type="submit" [disabled]="isBusy()">Create enrollment token</button>
    </form>
  `,
})
export class EnrollmentTokenForm {
  readonly created = output<CreatedEnrollmentToken>();
  protected readonly expiryChoices = EXPIRY_CHOICES;
  protected readonly error = signal<ApiError | null>(null);
  protected readonly isBusy = signal(false);
  private readonly tokensApi = inject(EnrollmentTokensApi);

  protected async create(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const request = readForm(new FormData(form));
    if ('error' in request) {
      this.error.set(new ApiError(request.error, 400));
      return;
    }
    this.error.set(null);
    this.isBusy.set(true);
    try {
      this.created.emit(await this.tokensApi.create(request));
      form.reset();
    } catch (error) {
      this.error.set(asApiError(error));
    } finally {
      this.isBusy.set(false);
    }
  }
}

/** The request body the form's fields make, or what to fix first. */
function readForm(data: FormData): NewEnrollmentToken | { error: string } {
  const maxUses = Number(data.get('maxUses'));
  if (!Number.isInteger(maxUses) || maxUses < 1) return { error: 'Max uses must be a whole number, at least 1.' };
  const parsed = parseLabels(String(data.get('labels') ?? ''));
  if ('error' in parsed) return { error: `Labels: ${parsed.error}` };
  const request: NewEnrollmentToken = { expiresIn: String(data.get('expiresIn')), maxUses, autoAccept: data.get('autoAccept') === 'on' };
  if (Object.keys(parsed.labels).length > 0) request.labels = parsed.labels;
  const description = String(data.get('description') ?? '').trim();
  if (description) request.description = description;
  return request;
}
