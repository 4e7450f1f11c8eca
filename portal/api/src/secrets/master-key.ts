/**
 * The master key that encrypts secrets: BATON_MASTER_KEY, or else `<BATON_DATA_DIR>/master.key`, created on the
 * first start (mode 0600). A generated key suits one portal on one machine; replicas and production need the
 * same key everywhere, from the environment.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseMasterKey, type BatonConfig } from '../core/config';

export interface MasterKey {
  key: Buffer;
  /** Where it came from, for the log: `BATON_MASTER_KEY` or the file's path. */
  source: string;
  isGenerated: boolean;
}

export function loadMasterKey(config: Pick<BatonConfig, 'masterKey' | 'dataDir'>): MasterKey {
  if (config.masterKey) return { key: config.masterKey, source: 'BATON_MASTER_KEY', isGenerated: false };
  const file = resolve(join(config.dataDir, 'master.key'));
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  let isGenerated = false;
  try {
    // `wx`: never overwrite a key another process wrote first; that one wins and is read below.
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    isGenerated = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = parseMasterKey(readFileSync(file, 'utf8'));
  if (!key) throw new Error(`${file} does not hold a 256-bit key (64 hex characters or base64 of 32 bytes)`);
  return { key, source: file, isGenerated };
}
