/** Typed calls for enrollment tokens (`/enrollment-tokens`, admins only): list, create (the token shown once), revoke. */
import { Injectable, inject } from '@angular/core';
import { Api, segment } from '../core/api';
import { CreatedEnrollmentToken, EnrollmentToken, NewEnrollmentToken } from './enrollment-tokens';

@Injectable({ providedIn: 'root' })
export class EnrollmentTokensApi {
  private readonly api = inject(Api);

  list(): Promise<EnrollmentToken[]> {
    return this.api.getJson<EnrollmentToken[]>('/enrollment-tokens');
  }

  create(token: NewEnrollmentToken): Promise<CreatedEnrollmentToken> {
    return this.api.postJson<CreatedEnrollmentToken>('/enrollment-tokens', token);
  }

  /** Revokes it: agents can no longer enroll with it; those already enrolled stay. */
  revoke(id: string): Promise<void> {
    return this.api.delete(`/enrollment-tokens/${segment(id)}`);
  }
}
