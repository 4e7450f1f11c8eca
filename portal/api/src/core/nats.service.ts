/**
 * The portal's NATS connection (absent when NATS_URL is unset: then only the `local` node exists) and the
 * JetStream stream that carries node events.
 */
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { subjects, type Subjects } from '@baton/shared';
import { BATON_CONFIG, BatonConfig } from './config';

@Injectable()
export class NatsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(NatsService.name);
  private nc?: NatsConnection;
  readonly subjects: Subjects;

  constructor(@Inject(BATON_CONFIG) private readonly config: BatonConfig) {
    this.subjects = subjects(config.subjectPrefix);
  }

  get isEnabled(): boolean {
    return this.config.nats !== undefined;
  }

  get connection(): NatsConnection {
    if (!this.nc) throw new Error('NATS is not configured (NATS_URL unset)');
    return this.nc;
  }

  get isConnected(): boolean {
    return this.nc !== undefined && !this.nc.isClosed() && !this.nc.isDraining();
  }

  /** Connects and makes sure the event stream exists, before any module starts using NATS. */
  async onModuleInit(): Promise<void> {
    const nats = this.config.nats;
    if (!nats) return;
    this.nc = await connect({
      servers: nats.url,
      name: 'baton-portal',
      user: nats.user,
      pass: nats.password,
      token: nats.token,
      // Operator mode (npm run nats:setup): the portal's own user JWT and seed.
      authenticator: nats.credsFile ? credsAuthenticator(readFileSync(nats.credsFile)) : undefined,
      maxReconnectAttempts: -1,
    });
    const jsm = await jetstreamManager(this.nc);
    const stream = {
      name: this.config.eventStream,
      subjects: [this.subjects.eventsAll],
      // Work-queue retention: an event is kept until the portal has stored it, then JetStream drops it.
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: 10 * 60 * 1_000_000_000, // nanoseconds: agents may resend spooled events minutes later
    };
    const exists = await jsm.streams.info(stream.name).then(
      () => true,
      () => false,
    );
    if (exists) await jsm.streams.update(stream.name, stream);
    else await jsm.streams.add(stream);
    this.logger.log({ url: nats.url, stream: stream.name }, 'connected to NATS');
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => undefined);
  }
}
