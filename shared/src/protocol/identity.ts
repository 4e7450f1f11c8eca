/**
 * An agent's identity: an NKey (Ed25519, the key NATS knows it by) that signs what the agent sends, and an
 * X25519 key the portal seals dispatch plans to. Signing and sealing use node:crypto (fast, constant-time);
 * @nats-io/nkeys only encodes keys in the NATS text form (`U...` public keys, `SU...` seeds).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { fromPublic, Prefix } from '@nats-io/nkeys';
import { Codec } from '@nats-io/nkeys/lib/codec';
import type { Sealed } from './messages';

export interface AgentKeys {
  /** NKey user seed (`SU...`): the agent's secret identity; it never leaves the node. */
  seed: string;
  /** NKey user public key (`U...`): the subject of its NATS credentials. */
  publicKey: string;
  /** X25519 private key, base64 of its 32 raw bytes. */
  boxPrivateKey: string;
  /** X25519 public key, base64 of its 32 raw bytes. */
  boxPublicKey: string;
}

// DER prefixes that wrap 32 raw key bytes into the PKCS8 / SPKI forms node:crypto reads.
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');

export function generateAgentKeys(): AgentKeys {
  const identity = generateKeyPairSync('ed25519');
  const box = generateKeyPairSync('x25519');
  return {
    seed: new TextDecoder().decode(Codec.encodeSeed(Prefix.User, rawOf(identity.privateKey, 'pkcs8'))),
    publicKey: encodeUserPublicKey(rawOf(identity.publicKey, 'spki')),
    boxPrivateKey: rawOf(box.privateKey, 'pkcs8').toString('base64'),
    boxPublicKey: rawOf(box.publicKey, 'spki').toString('base64'),
  };
}

/** Whether text is an NKey user public key (`U` + base32, with a valid checksum). */
export function isUserPublicKey(text: string): boolean {
  if (!/^U[A-Z2-7]{55}$/.test(text)) return false;
  try {
    fromPublic(text);
    return true;
  } catch {
    return false;
  }
}

/** Whether text is base64 of a 32-byte X25519 public key. */
export function isBoxPublicKey(text: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(text) && Buffer.from(text, 'base64').length === 32;
}

/** The public key that belongs to a seed (of any NKey kind); throws on a malformed seed. */
export function publicKeyOfSeed(seed: string): string {
  return seedKeys(seed).publicKey;
}

/** A seed's Ed25519 private key for node:crypto, and its public key in the NATS text form of the seed's kind. */
function seedKeys(seed: string): { privateKey: KeyObject; publicKey: string } {
  const { prefix, buf } = Codec.decodeSeed(new TextEncoder().encode(seed));
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, buf]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: new TextDecoder().decode(Codec.encode(prefix, rawOf(createPublicKey(privateKey), 'spki'))) };
}

function encodeUserPublicKey(raw: Buffer): string {
  return new TextDecoder().decode(Codec.encode(Prefix.User, raw));
}

/** What an admin compares with what the agent printed: OpenSSH style, SHA-256 of the raw public key. */
export function fingerprint(publicKey: string): string {
  const digest = createHash('sha256').update(rawPublicKey(publicKey)).digest('base64').replace(/=+$/, '');
  return `SHA256:${digest}`;
}

/** Signs with an agent's identity key. */
export class IdentitySigner {
  private readonly key: KeyObject;
  readonly publicKey: string;

  constructor(seed: string) {
    const { privateKey, publicKey } = seedKeys(seed);
    this.key = privateKey;
    this.publicKey = publicKey;
  }

  /** Base64 Ed25519 signature of the bytes. */
  sign(data: Uint8Array | string): string {
    return sign(null, typeof data === 'string' ? Buffer.from(data) : data, this.key).toString('base64');
  }
}

const verifyKeys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 10_000;

/** Whether `signature` (base64) is the identity key's signature of the bytes; never throws. */
export function verifyIdentitySignature(publicKey: string, data: Uint8Array | string, signature: string | undefined): boolean {
  if (!signature) return false;
  try {
    let key = verifyKeys.get(publicKey);
    if (!key) {
      key = createPublicKey({ key: Buffer.concat([ED25519_SPKI, rawPublicKey(publicKey)]), format: 'der', type: 'spki' });
      if (verifyKeys.size >= MAX_CACHED_KEYS) verifyKeys.clear();
      verifyKeys.set(publicKey, key);
    }
    return verify(null, typeof data === 'string' ? Buffer.from(data) : data, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** The NATS header that carries an agent's signature of a message's subject and body. */
export const SIGNATURE_HEADER = 'Baton-Signature';

/** What an agent signs for a NATS message: the subject binds the body to where it was sent. */
export function signedMessageBytes(subject: string, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${subject}\n`), body]);
}

/** The HTTP header that carries an agent's signature: of the body (enroll), or of `credentialsSigningText`. */
export const HTTP_SIGNATURE_HEADER = 'x-baton-signature';
/** The HTTP header with the time (ms) a credentials request was signed at. */
export const HTTP_SENT_AT_HEADER = 'x-baton-sent-at';

/** What an agent signs to ask for its credentials (a GET, so there is no body to sign). */
export function credentialsSigningText(name: string, sentAt: number): string {
  return `baton-credentials\n${name}\n${sentAt}`;
}

const SEAL_INFO = Buffer.from('baton-seal-v1');

/**
 * Encrypts text so that only the holder of the X25519 private key can read it: a one-time key pair, ECDH,
 * HKDF-SHA256 and AES-256-GCM (the ECIES pattern). Whoever else receives the message learns its length only.
 */
export function sealTo(boxPublicKey: string, plaintext: string): Sealed {
  const recipient = boxPublicKeyObject(boxPublicKey);
  const ephemeral = generateKeyPairSync('x25519');
  const epk = rawOf(ephemeral.publicKey, 'spki');
  const key = sealKey(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient }), epk, Buffer.from(boxPublicKey, 'base64'));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { epk: epk.toString('base64'), iv: iv.toString('base64'), data: data.toString('base64') };
}

/** Decrypts what `sealTo` sealed to this key; throws when it was sealed to another key or altered. */
export function openSealed(boxPrivateKey: string, sealed: Sealed): string {
  const { privateKey, ownPublic } = boxKeysOf(boxPrivateKey);
  const epk = Buffer.from(sealed.epk, 'base64');
  // The sender's key is used once: parsed here, not kept.
  const senderKey = createPublicKey({ key: Buffer.concat([X25519_SPKI, epk]), format: 'der', type: 'spki' });
  const key = sealKey(diffieHellman({ privateKey, publicKey: senderKey }), epk, ownPublic);
  const data = Buffer.from(sealed.data, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
}

const boxKeys = new Map<string, { privateKey: KeyObject; ownPublic: Buffer }>();

/** An agent opens every order with the same key: parse it once. */
function boxKeysOf(boxPrivateKey: string): { privateKey: KeyObject; ownPublic: Buffer } {
  let keys = boxKeys.get(boxPrivateKey);
  if (!keys) {
    const privateKey = createPrivateKey({
      key: Buffer.concat([X25519_PKCS8, Buffer.from(boxPrivateKey, 'base64')]),
      format: 'der',
      type: 'pkcs8',
    });
    keys = { privateKey, ownPublic: rawOf(createPublicKey(privateKey), 'spki') };
    if (boxKeys.size >= MAX_CACHED_KEYS) boxKeys.clear();
    boxKeys.set(boxPrivateKey, keys);
  }
  return keys;
}

function sealKey(shared: Buffer, epk: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([epk, recipient]), SEAL_INFO, 32));
}

const boxPublicKeys = new Map<string, KeyObject>();

/** The portal seals to the same few hundred node keys over and over: each is parsed once. */
function boxPublicKeyObject(base64: string): KeyObject {
  let key = boxPublicKeys.get(base64);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([X25519_SPKI, Buffer.from(base64, 'base64')]), format: 'der', type: 'spki' });
    if (boxPublicKeys.size >= MAX_CACHED_KEYS) boxPublicKeys.clear();
    boxPublicKeys.set(base64, key);
  }
  return key;
}

function rawPublicKey(publicKey: string): Buffer {
  return Buffer.from(Codec.decode(Prefix.User, new TextEncoder().encode(publicKey)));
}

/** The 32 raw bytes at the end of a key's DER form. */
function rawOf(key: KeyObject, type: 'pkcs8' | 'spki'): Buffer {
  const der = key.export({ format: 'der', type } as never) as Buffer;
  return der.subarray(der.length - 32);
}
