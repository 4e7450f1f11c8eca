/**
 * The node inventory (`GET /nodes`): executor, labels, status and last heartbeat, filtered by label; for admins, the
 * agents' enrollment requests and decisions below it.
 */
import { Component, computed, inject, signal } from '@angular/core';
import { Api, ApiError, asApiError } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { formatTime } from '../core/format';
import { Me } from '../core/me';
import { AgentsSection } from './agents-section';
import { NodeSummary, hasLabels, parseLabelFilter } from './node';

@Component({
  selector: 'baton-nodes-page',
  imports: [AgentsSection, ErrorNotice],
  template: `
    <h1>Nodes</h1>
    <baton-error-notice [error]="error()" />
    <div class="filters" role="search">
      <div class="field">
        <label for="label-filter">Filter by label</label>
        <input
          id="label-filter"
          type="search"
          placeholder="role=web, env"
          aria-describedby="label-filter-hint"
          [value]="labelText()"
          (input)="labelText.set(textOf($event))"
        />
        <span id="label-filter-hint" class="hint">key=value pairs, or a bare key for "has the label"</span>
      </div>
      <button type="button" class="quiet" (click)="load()">Refresh</button>
    </div>
    @if (filter() === null) {
      <p class="field-error" role="alert">Write labels as key=value, separated by commas.</p>
    }
    @if (nodes(); as nodes) {
      <div class="table-wrap">
        <table>
          <caption class="muted small" style="text-align:left;padding:0.5rem 0.75rem">
            {{
              shown().length
            }}
            of
            {{
              nodes.length
            }}
            nodes
          </caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Executor</th>
              <th scope="col">Labels</th>
              <th scope="col">Last heartbeat</th>
              <th scope="col">Host / version</th>
            </tr>
          </thead>
          <tbody>
            @for (node of shown(); track node.name) {
              <tr>
                <td class="mono">{{ node.name }}</td>
                <td>
                  <span class="status" [class]="node.status">{{ node.status }}</span>
                </td>
                <td>{{ node.executor }}</td>
                <td>
                  @for (label of labelsOf(node); track label) {
                    <button type="button" class="tag" (click)="addToFilter(label)" [attr.aria-label]="'Filter by ' + label">
                      {{ label }}
                    </button>
                  }
                </td>
                <td>{{ formatTime(node.lastSeen) }}</td>
                <td class="small muted">{{ node.hostname ?? '' }} {{ node.version ?? '' }}</td>
              </tr>
            } @empty {
              <tr>
                <td colspan="6" class="muted">No nodes match.</td>
              </tr>
            }
          </tbody>
        </table>
      </div>
    } @else if (!error()) {
      <p class="muted" role="status">Loading…</p>
    }
    @if (me.isAdmin()) {
      <baton-agents-section />
    }
  `,
})
export class NodesPage {
  protected readonly nodes = signal<NodeSummary[] | null>(null);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly labelText = signal('');
  protected readonly filter = computed(() => parseLabelFilter(this.labelText()));
  protected readonly shown = computed(() => {
    const filter = this.filter() ?? {};
    return (this.nodes() ?? []).filter((node) => hasLabels(node.labels ?? {}, filter));
  });
  protected readonly formatTime = formatTime;
  protected readonly me = inject(Me);
  private readonly api = inject(Api);

  constructor() {
    void this.me.load();
    void this.load();
  }

  protected textOf(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected labelsOf(node: NodeSummary): string[] {
    return Object.entries(node.labels ?? {}).map(([key, value]) => `${key}=${value}`);
  }

  protected addToFilter(label: string): void {
    const text = this.labelText().trim();
    this.labelText.set(text ? `${text}, ${label}` : label);
  }

  protected async load(): Promise<void> {
    try {
      this.nodes.set(await this.api.getJson<NodeSummary[]>('/nodes'));
      this.error.set(null);
    } catch (error) {
      this.error.set(asApiError(error));
    }
  }
}
