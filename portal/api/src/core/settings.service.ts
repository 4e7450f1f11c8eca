/**
 * Installation-wide values shared by all replicas (signing key, JWT secret): the first replica to start creates
 * each one, the others read the same value.
 */
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Setting } from './database/setting.entity';

@Injectable()
export class SettingsService {
  constructor(@InjectRepository(Setting) private readonly settings: Repository<Setting>) {}

  /** The stored value of `key`, created with `create()` if there is none yet (race-free across replicas). */
  async getOrCreate(key: string, create: () => string): Promise<string> {
    await this.settings.createQueryBuilder().insert().values({ key, value: create() }).orIgnore().execute();
    const row = await this.settings.findOneByOrFail({ key });
    return row.value;
  }
}
