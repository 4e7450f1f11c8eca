/**
 * Encryption of secret values at rest: AES-256-GCM with a fresh 96-bit IV per value, and the secret's name as
 * additional authenticated data, so a ciphertext copied onto another name (or edited) fails to decrypt.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export interface SealedValue {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  keyId: string;
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;

export class SecretCipher {
  /** A fingerprint of the key (not reversible), stored with each row to tell which key encrypted it. */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error(`the master key must be 32 bytes, not ${key.length}`);
    this.keyId = createHash('sha256').update('baton-master-key-id').update(key).digest('hex').slice(0, 16);
  }

  seal(name: string, value: string): SealedValue {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return { ciphertext, iv, authTag: cipher.getAuthTag(), keyId: this.keyId };
  }

  /** The value, or an error saying why it cannot be read (another master key, or a tampered row). */
  open(name: string, sealed: SealedValue): string {
    if (sealed.keyId !== this.keyId) {
      throw new Error(`secret "${name}" was encrypted with another master key (${sealed.keyId}); the current key is ${this.keyId}`);
    }
    const decipher = createDecipheriv(ALGORITHM, this.key, sealed.iv);
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(sealed.authTag);
    try {
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`secret "${name}" cannot be decrypted: its stored ciphertext was altered or belongs to another secret`);
    }
  }
}
