/** Shows an API error as the API said it: the message, then each detail (field and problem) on its own line. */
import { Component, computed, input } from '@angular/core';
import { ApiError } from './api';

@Component({
  selector: 'baton-error-notice',
  template: `
    @if (error(); as error) {
      <div class="error" role="alert">
        <strong>{{ error.message }}</strong>
        @if (detailLines().length > 0) {
          <ul>
            @for (line of detailLines(); track $index) {
              <li>{{ line }}</li>
            }
          </ul>
        }
      </div>
    }
  `,
})
export class ErrorNotice {
  readonly error = input<ApiError | null>(null);
  readonly detailLines = computed(() => describeDetails(this.error()?.details));
}

function describeDetails(details: unknown): string[] {
  if (details === undefined || details === null) return [];
  if (Array.isArray(details)) return details.map(describeDetail);
  if (typeof details === 'object') return Object.entries(details).map(([key, value]) => `${key}: ${describeDetail(value)}`);
  return [String(details)];
}

function describeDetail(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  if (detail && typeof detail === 'object' && 'message' in detail) {
    const field = 'field' in detail ? `${String(detail.field)}: ` : '';
    return `${field}${String(detail.message)}`;
  }
  return JSON.stringify(detail);
}
