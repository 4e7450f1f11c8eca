/**
 * The portal API client: fetch with the bearer token, and the API's error body
 * `{ statusCode, error, message, details? }` turned into an ApiError a page can show.
 */
import { Injectable, inject } from '@angular/core';
import { Router } from '@angular/router';
import { Session } from './session';

export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  details?: unknown;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

@Injectable({ providedIn: 'root' })
export class Api {
  private readonly session = inject(Session);
  private readonly router = inject(Router);

  async getJson<T>(path: string): Promise<T> {
    const response = await this.send('GET', path, undefined, 'application/json');
    return (await response.json()) as T;
  }

  async getText(path: string): Promise<string> {
    const response = await this.send('GET', path, undefined, 'text/plain');
    return response.text();
  }

  async postJson<T>(path: string, body: unknown): Promise<T> {
    const response = await this.send('POST', path, body, 'application/json');
    return (await response.json()) as T;
  }

  async putJson<T>(path: string, body: unknown): Promise<T> {
    const response = await this.send('PUT', path, body, 'application/json');
    return (await response.json()) as T;
  }

  async patchJson<T>(path: string, body: unknown): Promise<T> {
    const response = await this.send('PATCH', path, body, 'application/json');
    return (await response.json()) as T;
  }

  /** DELETE; the answer (if any) is not read. */
  async delete(path: string): Promise<void> {
    await this.send('DELETE', path, undefined, 'application/json');
  }

  /** A download that needs the bearer token (an <a href> cannot send it): the body as a blob, and the file name offered. */
  async getBlob(path: string): Promise<{ blob: Blob; filename: string | null }> {
    const response = await this.send('GET', path, undefined, '*/*');
    const disposition = response.headers.get('content-disposition') ?? '';
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? null;
    return { blob: await response.blob(), filename };
  }

  private async send(method: string, path: string, body: unknown, accept: string, isRetry = false): Promise<Response> {
    const token = this.session.token();
    const headers: Record<string, string> = { accept };
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';

    let response: Response;
    try {
      response = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError('The portal did not answer. Check your connection and try again.', 0);
    }
    if (response.ok) return response;

    // Access tokens live minutes: renew once with the refresh token, then repeat the request.
    if (response.status === 401 && token && !isRetry && (await this.session.renew())) return this.send(method, path, body, accept, true);
    const error = await readApiError(response);
    if (response.status === 401 && token) this.endExpiredSession();
    throw error;
  }

  /** A token the API no longer accepts: drop it and ask the person to sign in again. */
  private endExpiredSession(): void {
    this.session.signOut();
    void this.router.navigate(['/sign-in'], { queryParams: { returnUrl: this.router.url } });
  }
}

async function readApiError(response: Response): Promise<ApiError> {
  const fallback = `${response.status} ${response.statusText || 'Error'}`;
  try {
    const body = (await response.json()) as Partial<ApiErrorBody>;
    const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    return new ApiError(message || body.error || fallback, response.status, body.details);
  } catch {
    return new ApiError(fallback, response.status);
  }
}

/** Path segment for an id such as `web.restart-nginx`. */
export function segment(id: string): string {
  return encodeURIComponent(id);
}

/** Anything a page caught, as something ErrorNotice can show. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(error instanceof Error ? error.message : String(error), 0);
}
