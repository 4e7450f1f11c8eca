import type { Order } from './messages';
import { EnvelopeSigner, EnvelopeVerifier, generateSigningKeys } from './signing';

const order: Order = { type: 'cancel', nodeRunId: 'nr-1', node: 'web-1', reason: 'test' };

describe('signed envelopes', () => {
  const keys = generateSigningKeys();

  it('opens an envelope sealed by the portal', () => {
    const envelope = new EnvelopeSigner(keys.privateKeyPem).seal(order);
    expect(new EnvelopeVerifier(keys.publicKey).open(envelope)).toEqual({ ok: true, order });
  });

  it('refuses an envelope signed by another key', () => {
    const forged = new EnvelopeSigner(generateSigningKeys().privateKeyPem).seal(order);
    const result = new EnvelopeVerifier(keys.publicKey).open(forged);
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('bad signature') });
  });

  it('refuses an envelope whose payload was edited after signing', () => {
    const envelope = new EnvelopeSigner(keys.privateKeyPem).seal(order);
    const tampered = { ...envelope, payload: envelope.payload.replace('web-1', 'db-1') };
    expect(new EnvelopeVerifier(keys.publicKey).open(tampered)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('bad signature'),
    });
  });

  it('refuses an expired envelope', () => {
    const envelope = new EnvelopeSigner(keys.privateKeyPem, 1000).seal(order, Date.now() - 5000);
    expect(new EnvelopeVerifier(keys.publicKey).open(envelope)).toMatchObject({ ok: false, reason: expect.stringContaining('expired') });
  });

  it('refuses a replayed envelope', () => {
    const verifier = new EnvelopeVerifier(keys.publicKey);
    const envelope = new EnvelopeSigner(keys.privateKeyPem).seal(order);
    expect(verifier.open(envelope).ok).toBe(true);
    expect(verifier.open(envelope)).toEqual({ ok: false, reason: expect.stringContaining('replayed') });
  });

  it('refuses something that is not an envelope', () => {
    expect(new EnvelopeVerifier(keys.publicKey).open({ hello: 1 })).toEqual({ ok: false, reason: 'malformed envelope' });
  });
});
