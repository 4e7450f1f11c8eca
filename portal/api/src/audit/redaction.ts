/** Masking of request bodies before they are stored in the audit log: values under sensitive keys become `***`. */

export const REDACTED = '***';

/** Compared case-insensitively, ignoring `-` and `_` (so `access_token` matches `accessToken`). */
const SENSITIVE_KEYS = new Set([
  'password',
  'newpassword',
  'value',
  'token',
  'secret',
  'accesstoken',
  'refreshtoken',
  'authorization',
  'clientsecret',
  'apikey',
  'privatekey',
  'passphrase',
]);

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''));
}

/** A deep copy of `value` with every sensitive key's value replaced, at any depth. */
export function redactByKey(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactByKey);
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) copy[key] = isSensitiveKey(key) ? REDACTED : redactByKey(inner);
  return copy;
}
