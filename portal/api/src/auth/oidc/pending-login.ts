/**
 * The sign-in in progress between `/oidc/login` and `/oidc/callback` (state, nonce, PKCE verifier). It travels in
 * the browser as a short-lived cookie sealed with AES-256-GCM under a key all replicas share, so whichever replica
 * receives the callback can finish the sign-in, and the browser can neither read nor alter it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Epoch milliseconds after which the callback is refused. */
  expiresAtMs: number;
}

/** Binds sealed values to this purpose: the key sealing anything else would not open these. */
const PURPOSE = Buffer.from('baton/oidc-pending-login/v1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealPendingLogin(key: Buffer, login: PendingLogin): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(PURPOSE);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(login), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
}

/** The pending login, or undefined when the value was altered, sealed under another key, malformed or expired. */
export function openPendingLogin(key: Buffer, sealed: string, nowMs: number): PendingLogin | undefined {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
  let login: PendingLogin;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES)).setAAD(PURPOSE);
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plaintext = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    login = JSON.parse(plaintext.toString('utf8'));
  } catch {
    return undefined;
  }
  return login.expiresAtMs > nowMs ? login : undefined;
}

/** The value of one cookie in a `Cookie:` request header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}
