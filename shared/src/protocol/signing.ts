/**
 * Signed envelopes for orders sent to agents (Ed25519 from node:crypto).
 * The portal signs; the agent checks the signature, the expiry and that it has not seen the nonce before,
 * so that a forged, stale or replayed order is refused with a reason.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, KeyObject } from 'node:crypto';
import { z } from 'zod';
import { Order, orderSchema } from './messages';

export const envelopeSchema = z.object({ payload: z.string(), signature: z.string() });
export type Envelope = z.infer<typeof envelopeSchema>;

const signedPayloadSchema = z.object({
  nonce: z.string().min(16),
  issuedAt: z.number(),
  expiresAt: z.number(),
  order: orderSchema,
});

export const DEFAULT_ENVELOPE_TTL_MS = 30_000;
/** Clocks of portal and agents drift a little; an envelope issued slightly "in the future" is still fine. */
const CLOCK_SKEW_MS = 30_000;

export function generateSigningKeys(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: exportPublicKey(publicKey),
  };
}

/** Public keys travel as base64 of their SPKI DER form: one line, easy to put in an environment variable. */
export function exportPublicKey(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

export function publicKeyOf(privateKeyPem: string): string {
  return exportPublicKey(createPublicKey(createPrivateKey(privateKeyPem)));
}

export class EnvelopeSigner {
  private readonly key: KeyObject;

  constructor(
    privateKeyPem: string,
    private readonly ttlMs = DEFAULT_ENVELOPE_TTL_MS,
  ) {
    this.key = createPrivateKey(privateKeyPem);
  }

  seal(order: Order, now = Date.now()): Envelope {
    const payload = JSON.stringify({ nonce: randomUUID(), issuedAt: now, expiresAt: now + this.ttlMs, order });
    const signature = sign(null, Buffer.from(payload), this.key).toString('base64');
    return { payload, signature };
  }
}

export type OpenResult = { ok: true; order: Order } | { ok: false; reason: string };

export class EnvelopeVerifier {
  private readonly key: KeyObject;
  /** nonce -> expiry; a nonce only needs remembering until its envelope would be refused as expired anyway. */
  private readonly seenNonces = new Map<string, number>();

  constructor(publicKeyBase64: string) {
    this.key = createPublicKey({ key: Buffer.from(publicKeyBase64, 'base64'), format: 'der', type: 'spki' });
  }

  open(raw: unknown, now = Date.now()): OpenResult {
    const envelope = envelopeSchema.safeParse(raw);
    if (!envelope.success) return { ok: false, reason: 'malformed envelope' };
    const { payload, signature } = envelope.data;
    if (!verify(null, Buffer.from(payload), this.key, Buffer.from(signature, 'base64'))) {
      return { ok: false, reason: 'bad signature: envelope not signed by this portal' };
    }
    const parsed = signedPayloadSchema.safeParse(safeJson(payload));
    if (!parsed.success) return { ok: false, reason: `malformed order: ${parsed.error.issues[0]?.message}` };
    const { nonce, issuedAt, expiresAt, order } = parsed.data;
    if (expiresAt <= now) return { ok: false, reason: `expired envelope (expired ${now - expiresAt} ms ago)` };
    if (issuedAt > now + CLOCK_SKEW_MS) return { ok: false, reason: 'envelope issued in the future: check clocks' };
    this.forgetExpired(now);
    if (this.seenNonces.has(nonce)) return { ok: false, reason: 'replayed envelope: nonce already used' };
    this.seenNonces.set(nonce, expiresAt);
    return { ok: true, order };
  }

  private forgetExpired(now: number): void {
    // Insertion order is (nearly) expiry order, so the scan stops at the first nonce still valid.
    for (const [nonce, expiresAt] of this.seenNonces) {
      if (expiresAt > now) return;
      this.seenNonces.delete(nonce);
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
