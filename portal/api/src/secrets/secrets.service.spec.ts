import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Repository } from 'typeorm';
import { parseConfig, parseMasterKey, type BatonConfig } from '../core/config';
import { loadMasterKey } from './master-key';
import { SecretCipher } from './secret-cipher';
import type { Secret } from './secret.entity';
import { SecretsService } from './secrets.service';
import type { AuditService } from '../audit/audit.service';

describe('SecretCipher', () => {
  const cipher = new SecretCipher(randomBytes(32));

  it('encrypts a value so that only the same name and key open it', () => {
    const sealed = cipher.seal('demo-token', 'hunter2-token');
    expect(sealed.ciphertext.includes(Buffer.from('hunter2'))).toBe(false);
    expect(cipher.open('demo-token', sealed)).toBe('hunter2-token');
  });

  it('uses a fresh IV each time', () => {
    expect(cipher.seal('a-name', 'same value').iv.equals(cipher.seal('a-name', 'same value').iv)).toBe(false);
  });

  it('refuses a ciphertext moved to another name', () => {
    const sealed = cipher.seal('demo-token', 'hunter2-token');
    expect(() => cipher.open('other-token', sealed)).toThrow('altered or belongs to another secret');
  });

  it('refuses an edited ciphertext', () => {
    const sealed = cipher.seal('demo-token', 'hunter2-token');
    sealed.ciphertext[0] ^= 1;
    expect(() => cipher.open('demo-token', sealed)).toThrow('cannot be decrypted');
  });

  it('says when a row was encrypted with another master key', () => {
    const sealed = new SecretCipher(randomBytes(32)).seal('demo-token', 'hunter2-token');
    expect(() => cipher.open('demo-token', sealed)).toThrow('encrypted with another master key');
  });
});

describe('master key', () => {
  it('accepts 64 hex characters or base64 of 32 bytes, nothing else', () => {
    const key = randomBytes(32);
    expect(parseMasterKey(key.toString('hex'))?.equals(key)).toBe(true);
    expect(parseMasterKey(key.toString('base64'))?.equals(key)).toBe(true);
    expect(parseMasterKey('too-short')).toBeUndefined();
    expect(parseMasterKey(randomBytes(16).toString('base64'))).toBeUndefined();
  });

  it('stops the portal with a clear message for a bad BATON_MASTER_KEY', () => {
    expect(() => parseConfig({ BATON_MASTER_KEY: 'secret' })).toThrow(/BATON_MASTER_KEY: must be 32 bytes as 64 hex characters or base64/);
    expect(parseConfig({ BATON_MASTER_KEY: 'ab'.repeat(32) }).masterKey).toEqual(Buffer.alloc(32, 0xab));
  });

  it('generates <dataDir>/master.key readable by its owner only, and reuses it on the next start', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'baton-key-')), 'data');
    try {
      const first = loadMasterKey({ dataDir, masterKey: undefined });
      expect(first.isGenerated).toBe(true);
      expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
      const second = loadMasterKey({ dataDir, masterKey: undefined });
      expect(second.isGenerated).toBe(false);
      expect(second.key.equals(first.key)).toBe(true);
      expect(parseMasterKey(readFileSync(join(dataDir, 'master.key'), 'utf8'))?.equals(first.key)).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('prefers BATON_MASTER_KEY and writes no file then', () => {
    const key = randomBytes(32);
    expect(loadMasterKey({ dataDir: '/nonexistent/baton', masterKey: key })).toEqual({
      key,
      source: 'BATON_MASTER_KEY',
      isGenerated: false,
    });
  });
});

describe('SecretsService', () => {
  /** Just enough of a repository: rows in a map, the upsert statement interpreted by its parameters. */
  function fakeRepository(): Repository<Secret> {
    const rows = new Map<string, Secret>();
    return {
      query: async (_sql: string, [name, ciphertext, iv, authTag, keyId, setBy]: [string, Buffer, Buffer, Buffer, string, string]) => {
        const now = new Date();
        rows.set(name, { name, ciphertext, iv, authTag, keyId, setBy, createdAt: rows.get(name)?.createdAt ?? now, updatedAt: now });
      },
      find: async () => [...rows.values()],
      findBy: async () => [...rows.values()],
      findOneByOrFail: async ({ name }: { name: string }) => rows.get(name)!,
      delete: async ({ name }: { name: string }) => ({ affected: rows.delete(name) ? 1 : 0 }),
    } as unknown as Repository<Secret>;
  }

  /** The redactor the service hands to the audit log. */
  let auditRedactor: (text: string) => string = (t) => t;
  const audit = { addRedactor: (fn: (text: string) => string) => (auditRedactor = fn) } as unknown as AuditService;

  async function service(): Promise<SecretsService> {
    const config = { masterKey: randomBytes(32), dataDir: '/nonexistent' } as BatonConfig;
    const secrets = new SecretsService(fakeRepository(), config, audit);
    await secrets.onModuleInit();
    return secrets;
  }

  it('masks the values of stored secrets and of running executions, and never returns a value', async () => {
    const secrets = await service();
    try {
      const summary = await secrets.put('demo-token', 'hunter2-token', 'admin');
      expect(summary).toEqual({ name: 'demo-token', setBy: 'admin', createdAt: expect.any(Date), updatedAt: expect.any(Date) });
      secrets.maskForExecution('exec-1', ['param-value']);
      expect(secrets.mask('a hunter2-token b param-value c')).toBe('a *** b *** c');
      secrets.forgetExecution('exec-1');
      expect(secrets.mask('param-value')).toBe('param-value');
      expect(await secrets.resolve(['demo-token', 'missing'])).toEqual(new Map([['demo-token', 'hunter2-token']]));
    } finally {
      secrets.onModuleDestroy();
    }
  });

  it('refuses a name that is not a secret name', async () => {
    const secrets = await service();
    try {
      await expect(secrets.put('Bad Name', 'long-enough', 'admin')).rejects.toThrow('name: must be lower-case');
    } finally {
      secrets.onModuleDestroy();
    }
  });

  it('masks secret values in audit details, also where JSON escapes them', async () => {
    const secrets = await service();
    await secrets.put('quoted', 'pa"ss\\word', 'admin');
    const details = JSON.stringify({ body: { note: 'pa"ss\\word' } });
    expect(details).toContain('pa\\"ss');
    expect(auditRedactor(details)).toBe(JSON.stringify({ body: { note: '***' } }));
  });
});
