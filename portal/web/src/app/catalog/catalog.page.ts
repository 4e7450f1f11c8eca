/** Home: the runbooks this person may see, grouped by namespace, with a search box and tag filter. */
import { Component, computed, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { Api, ApiError, asApiError } from '../core/api';
import { ErrorNotice } from '../core/error-notice';
import { RunbookSummary } from '../runbooks/runbook';
import { allTags, filterCatalog, groupByNamespace } from './catalog';

@Component({
  selector: 'baton-catalog-page',
  imports: [ErrorNotice, RouterLink],
  template: `
    <div class="page-head">
      <h1>Catalog</h1>
      @if (runbooks(); as runbooks) {
        <span class="muted small" role="status">{{ shown().length }} of {{ runbooks.length }} runbooks</span>
      }
    </div>
    <baton-error-notice [error]="error()" />
    <div class="filters" role="search">
      <div class="field">
        <label for="catalog-search">Search runbooks</label>
        <input
          id="catalog-search"
          type="search"
          placeholder="name, title, description or tag"
          [value]="search()"
          (input)="search.set(textOf($event))"
        />
      </div>
      @if (tags().length > 0) {
        <div class="field">
          <span id="tag-filter-label" class="hint">Tags</span>
          <div class="row" role="group" aria-labelledby="tag-filter-label">
            @for (tag of tags(); track tag) {
              <button type="button" class="tag" [attr.aria-pressed]="selectedTags().has(tag)" (click)="toggleTag(tag)">
                {{ tag }}
              </button>
            }
          </div>
        </div>
      }
    </div>
    @if (runbooks()) {
      @for (group of groups(); track group.namespace) {
        <section [attr.aria-labelledby]="'ns-' + group.namespace">
          <h2 [id]="'ns-' + group.namespace">{{ group.namespace }}</h2>
          <ul class="plain catalog-grid">
            @for (runbook of group.runbooks; track runbook.id) {
              <li class="card">
                <a [routerLink]="['/runbooks', runbook.id]">{{ runbook.title }}</a>
                <span class="muted mono small">{{ runbook.id }}</span>
                @if (runbook.description) {
                  <p>{{ runbook.description }}</p>
                }
                <div>
                  @for (tag of runbook.tags; track tag) {
                    <span class="tag">{{ tag }}</span>
                  }
                </div>
              </li>
            }
          </ul>
        </section>
      } @empty {
        <p class="muted">No runbooks match{{ runbooks()!.length === 0 ? ' — none you may see yet' : '' }}.</p>
      }
    } @else if (!error()) {
      <p class="muted" role="status">Loading…</p>
    }
  `,
})
export class CatalogPage {
  protected readonly runbooks = signal<RunbookSummary[] | null>(null);
  protected readonly error = signal<ApiError | null>(null);
  protected readonly search = signal('');
  protected readonly selectedTags = signal<ReadonlySet<string>>(new Set());
  protected readonly tags = computed(() => allTags(this.runbooks() ?? []));
  protected readonly shown = computed(() => filterCatalog(this.runbooks() ?? [], this.search(), this.selectedTags()));
  protected readonly groups = computed(() => groupByNamespace(this.shown()));
  private readonly api = inject(Api);

  constructor() {
    this.api.getJson<RunbookSummary[]>('/runbooks').then(
      (runbooks) => this.runbooks.set(runbooks),
      (error: unknown) => this.error.set(asApiError(error)),
    );
  }

  protected textOf(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected toggleTag(tag: string): void {
    const next = new Set(this.selectedTags());
    if (next.has(tag)) next.delete(tag);
    else next.add(tag);
    this.selectedTags.set(next);
  }
}
