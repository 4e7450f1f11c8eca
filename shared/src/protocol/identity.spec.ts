import {
  IdentitySigner,
  fingerprint,
  generateAgentKeys,
  isBoxPublicKey,
  isUserPublicKey,
  openSealed,
  sealTo,
  signedMessageBytes,
  verifyIdentitySignature,
} from './identity';

describe('agent identity', () => {
  const keys = generateAgentKeys();

  it('creates an NKey user key and an X25519 key in their text forms', () => {
    expect(keys.seed).toMatch(/^SU[A-Z2-7]{56}$/);
    expect(isUserPublicKey(keys.publicKey)).toBe(true);
    expect(isBoxPublicKey(keys.boxPublicKey)).toBe(true);
  });

  it('refuses malformed public keys', () => {
    expect(isUserPublicKey('UABC')).toBe(false);
    expect(isUserPublicKey(keys.publicKey.slice(0, -1) + (keys.publicKey.endsWith('A') ? 'B' : 'A'))).toBe(false);
    expect(isBoxPublicKey('not-a-key')).toBe(false);
  });

  it('signs so that only its own public key verifies', () => {
    const signer = new IdentitySigner(keys.seed);
    expect(signer.publicKey).toBe(keys.publicKey);
    const bytes = signedMessageBytes('baton.agent.heartbeat.web-1', Buffer.from('{"a":1}'));
    const signature = signer.sign(bytes);
    expect(verifyIdentitySignature(keys.publicKey, bytes, signature)).toBe(true);
    expect(verifyIdentitySignature(generateAgentKeys().publicKey, bytes, signature)).toBe(false);
    const other = signedMessageBytes('baton.agent.heartbeat.web-2', Buffer.from('{"a":1}'));
    expect(verifyIdentitySignature(keys.publicKey, other, signature)).toBe(false);
    expect(verifyIdentitySignature(keys.publicKey, bytes, undefined)).toBe(false);
    expect(verifyIdentitySignature(keys.publicKey, bytes, 'garbage')).toBe(false);
  });

  it('gives a stable fingerprint per key', () => {
    expect(fingerprint(keys.publicKey)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprint(keys.publicKey)).toBe(fingerprint(keys.publicKey));
    expect(fingerprint(generateAgentKeys().publicKey)).not.toBe(fingerprint(keys.publicKey));
  });

  it('seals text that only the recipient key opens', () => {
    const sealed = sealTo(keys.boxPublicKey, 'DB_PASSWORD=hunter2');
    expect(JSON.stringify(sealed)).not.toContain('hunter2');
    expect(openSealed(keys.boxPrivateKey, sealed)).toBe('DB_PASSWORD=hunter2');
    expect(() => openSealed(generateAgentKeys().boxPrivateKey, sealed)).toThrow();
    const altered = {
      ...sealed,
      data: Buffer.from(Buffer.from(sealed.data, 'base64').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64'),
    };
    expect(() => openSealed(keys.boxPrivateKey, altered)).toThrow();
  });
});
