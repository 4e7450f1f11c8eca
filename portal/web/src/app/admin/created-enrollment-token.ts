/**
 * A just-created enrollment token, shown this once: the token with a copy button, and the command to paste on a node
 * (install script from this portal, the token, a node name, the token's labels), with its own copy button.
 */
import { Clipboard } from '@angular/cdk/clipboard';
import { DOCUMENT } from '@angular/common';
import { Component, computed, inject, input, output, signal } from '@angular/core';
import { formatTime } from '../core/format';
import { CreatedEnrollmentToken, installCommand } from './enrollment-tokens';

@Component({
  selector: 'baton-created-enrollment-token',
  template: `
    <div class="notice ok created" role="region" aria-labelledby="created-enrollment-token-heading">
      <p id="created-enrollment-token-heading">
        <strong>Copy this enrollment token now — it is not shown again.</strong>
        It admits up to {{ token().maxUses }} nodes until {{ formatTime(token().expiresAt) }}.
        @if (token().autoAccept) {
          They are accepted at once.
        } @else {
          They wait on the Nodes page until an admin accepts them.
        }
      </p>
      <p class="token-once" aria-label="New enrollment token">{{ token().token }}</p>
      <div class="row">
        <button type="button" class="small" (click)="copy('token', token().token)">Copy token</button>
      </div>
      <div class="field">
        <label for="install-node-name">Node name</label>
        <input
          id="install-node-name"
          autocomplete="off"
          placeholder="web-7"
          aria-describedby="install-node-name-hint"
          [value]="nodeName()"
          (input)="nodeName.set(textOf($event))"
        />
        <span id="install-node-name-hint" class="hint">Empty: each node enrolls under its own host name.</span>
      </div>
      <p class="small" id="install-command-label"><strong>Install command</strong> — run it on the node:</p>
      <pre class="token-once install-command" aria-labelledby="install-command-label">{{ command() }}</pre>
      <div class="row">
        <button type="button" class="small" (click)="copy('command', command())">Copy command</button>
        <button type="button" class="small quiet" (click)="done.emit()">Done</button>
        <span class="small muted" role="status">{{ copied() }}</span>
      </div>
    </div>
  `,
  styles: `
    .created {
      display: grid;
      gap: 0.5rem;
    }
    .created p {
      margin: 0;
    }
    .install-command {
      white-space: pre-wrap;
    }
  `,
})
export class CreatedEnrollmentTokenNotice {
  readonly token = input.required<CreatedEnrollmentToken>();
  readonly done = output<void>();

  protected readonly nodeName = signal('');
  protected readonly copied = signal('');
  protected readonly command = computed(() => installCommand(this.portalOrigin, this.token().token, this.nodeName(), this.token().labels));
  protected readonly formatTime = formatTime;
  /** Where this page came from: the address nodes use to reach the portal too, in the usual setup. */
  private readonly portalOrigin = inject(DOCUMENT).location.origin;
  private readonly clipboard = inject(Clipboard);

  protected textOf(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  /** Copies without navigator.clipboard, which a portal served over plain HTTP does not get. */
  protected copy(what: 'token' | 'command', text: string): void {
    const isCopied = this.clipboard.copy(text);
    this.copied.set(isCopied ? `The ${what} is copied.` : `Could not copy; select the ${what} and copy it by hand.`);
  }
}
