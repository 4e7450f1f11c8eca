/** The key that signs access tokens: BATON_JWT_SECRET, or one generated once and shared by replicas through the database. */
import { randomBytes } from 'node:crypto';
import type { BatonConfig } from '../core/config';
import type { SettingsService } from '../core/settings.service';

export class JWT_SECRET {
  constructor(readonly value: string) {}

  static async load(config: BatonConfig, settings: SettingsService): Promise<JWT_SECRET> {
    return new JWT_SECRET(config.jwtSecret ?? (await settings.getOrCreate('jwt.secret', () => randomBytes(48).toString('base64'))));
  }
}
