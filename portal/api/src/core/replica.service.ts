/**
 * This portal process as one replica among several on the same database: a name, and a heartbeat row in
 * `portal_replicas` every BATON_HEARTBEAT_MS. Work only this process can do (orchestrating an execution, running
 * `local` and SSH node runs) is marked with its name; other replicas judge that work only once its replica has
 * missed 3 heartbeats (it crashed) or removed its row (it stopped).
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DataSource } from 'typeorm';
import { BATON_CONFIG, BatonConfig, MISSED_HEARTBEATS } from './config';

/** Rows of replicas gone longer than this are deleted at start-up. */
const FORGET_AFTER = '7 days';

@Injectable()
export class ReplicaService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReplicaService.name);
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  /** How long a replica may be silent before its work is someone else's to judge. */
  get silenceLimitMs(): number {
    return this.config.heartbeatMs * MISSED_HEARTBEATS;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.db.query(`DELETE FROM portal_replicas WHERE seen_at < now() - interval '${FORGET_AFTER}'`);
    await this.beat();
    this.timer = setInterval(
      () => void this.beat().catch((err) => this.logger.warn({ err: String(err) }, 'replica heartbeat failed')),
      this.config.heartbeatMs,
    );
  }

  /**
   * A stopping replica says so at once rather than after 3 heartbeats. Its runs are stopped by their own services;
   * should another replica's watchdog get to one first, it ends it `lost` instead of `cancelled`, nothing worse.
   */
  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.db.query(`DELETE FROM portal_replicas WHERE id = $1`, [this.id]).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    await this.db.query(
      `INSERT INTO portal_replicas (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET seen_at = now()`,
      [this.id],
    );
  }
}
