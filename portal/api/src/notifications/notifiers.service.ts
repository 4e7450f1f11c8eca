/**
 * Notifiers: loaded from `kind: Notifier` files in RUNBOOKS_DIR at start (file notifiers are changed in their file),
 * created and changed through the API by admins, and the deliveries each one has in the outbox.
 */
import { BadRequestException, ConflictException, Injectable, Logger, NotFoundException, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { notifierProblems, notifierSchema, type Notifier } from '@baton/shared';
import { replaceFileDefined, type FileDefined } from '../runbooks/file-resources';
import type { LoadedResource } from '../runbooks/runbook-loader';
import { RunbooksService } from '../runbooks/runbooks.service';
import { SecretsService } from '../secrets/secrets.service';
import { DeliveryStatus, NotificationDelivery, NotifierRecord } from './notification.entity';

export interface NotifierView extends Omit<Notifier, 'apiVersion' | 'kind'> {
  sourceFile: string | null;
  updatedAt: Date;
  /** Deliveries waiting for their next attempt, and deliveries that gave up. */
  deliveries: { pending: number; dead: number };
}

export interface DeliveryView {
  id: string;
  event: { id: string; type: string; title: string; occurredAt: Date };
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due (pending deliveries only). */
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

@Injectable()
export class NotifiersService implements OnModuleInit {
  private readonly logger = new Logger(NotifiersService.name);

  constructor(
    @InjectRepository(NotifierRecord) private readonly notifiers: Repository<NotifierRecord>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly runbooks: RunbooksService,
    private readonly secrets: SecretsService,
  ) {}

  onModuleInit(): void {
    this.runbooks.onResourcesLoaded((resources) => this.storeFileNotifiers(resources));
  }

  private async storeFileNotifiers(resources: LoadedResource[]): Promise<void> {
    const notifiers = resources.filter((r) => r.resource.kind === 'Notifier') as FileDefined[];
    const { stored, removed } = await replaceFileDefined(this.db, 'notifiers', notifiers);
    if (removed.length > 0) this.logger.warn({ notifiers: removed }, 'notifiers no longer defined by their files were removed');
    this.logger.log({ notifiers: stored.length }, 'notifiers loaded');
  }

  /** Every notifier as stored, read through `manager` when given (inside the caller's transaction). */
  async all(manager: EntityManager = this.db.manager): Promise<Notifier[]> {
    const rows: { content: Notifier }[] = await manager.query(`SELECT content FROM notifiers ORDER BY id`);
    return rows.map((r) => r.content);
  }

  async find(id: string): Promise<Notifier | undefined> {
    return (await this.notifiers.findOneBy({ id }))?.content;
  }

  async list(): Promise<NotifierView[]> {
    const records = await this.notifiers.find({ order: { id: 'ASC' } });
    const counts: { notifier_id: string; status: string; n: string }[] = await this.db.query(
      `SELECT notifier_id, status, count(*) AS n FROM notification_deliveries WHERE status <> 'delivered' GROUP BY notifier_id, status`,
    );
    return records.map((record) => {
      const count = (status: string) => Number(counts.find((c) => c.notifier_id === record.id && c.status === status)?.n ?? 0);
      return view(record, { pending: count('pending'), dead: count('dead') });
    });
  }

  async get(id: string): Promise<NotifierView> {
    const record = await this.record(id);
    const counts: { status: string; n: string }[] = await this.db.query(
      `SELECT status, count(*) AS n FROM notification_deliveries WHERE notifier_id = $1 AND status <> 'delivered' GROUP BY status`,
      [id],
    );
    const count = (status: string) => Number(counts.find((c) => c.status === status)?.n ?? 0);
    return view(record, { pending: count('pending'), dead: count('dead') });
  }

  /** A notifier as the API takes it (apiVersion and kind may be left out), checked; the secrets it names must exist. */
  async validate(input: unknown): Promise<Notifier> {
    const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {};
    const parsed = notifierSchema.safeParse({ apiVersion: 'baton/v1', kind: 'Notifier', ...body });
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message }));
      throw new BadRequestException({ message: details.map((d) => `${d.field}: ${d.message}`).join('; '), details });
    }
    const problems = notifierProblems(parsed.data);
    if (problems.length > 0) {
      throw new BadRequestException({
        message: problems.map((p) => p.message).join('; '),
        details: problems.map((p) => ({ field: p.path.join('.') || 'body', message: p.message })),
      });
    }
    await this.checkSecretsExist(parsed.data);
    return parsed.data;
  }

  /** A notifier naming a secret nobody set would fail every delivery: say so when it is saved. */
  private async checkSecretsExist(notifier: Notifier): Promise<void> {
    const named = [
      ['urlSecret', notifier.urlSecret],
      ['hmacSecret', notifier.hmacSecret],
      ['smtp.passwordSecret', notifier.smtp?.passwordSecret],
    ].filter((entry): entry is [string, string] => entry[1] !== undefined);
    const found = await this.secrets.resolve(named.map(([, name]) => name));
    const missing = named.filter(([, name]) => !found.has(name));
    if (missing.length === 0) return;
    const details = missing.map(([field, name]) => ({ field, message: `secret "${name}" does not exist` }));
    throw new BadRequestException({
      message: `${details.map((d) => `${d.field}: ${d.message}`).join('; ')}; set it first with PUT /api/v1/secrets/{name}`,
      details,
    });
  }

  async create(notifier: Notifier, user: string): Promise<NotifierView> {
    if (await this.notifiers.existsBy({ id: notifier.id })) throw new ConflictException(`notifier "${notifier.id}" already exists`);
    await this.db.query(`INSERT INTO notifiers (id, content, updated_by) VALUES ($1, $2::jsonb, $3)`, [
      notifier.id,
      JSON.stringify(notifier),
      user,
    ]);
    return this.get(notifier.id);
  }

  /** The notifier with the given fields changed (`null` removes an optional one), checked; not stored yet. The id cannot change. */
  async withChanges(id: string, changes: Record<string, unknown>): Promise<Notifier> {
    const record = await this.apiRecord(id);
    if (changes.id !== undefined && changes.id !== id)
      throw new BadRequestException({ message: 'id: cannot be changed', details: [{ field: 'id' }] });
    const merged: Record<string, unknown> = { ...record.content, ...changes };
    for (const [key, value] of Object.entries(changes)) if (value === null) delete merged[key];
    return this.validate(merged);
  }

  async replace(notifier: Notifier, user: string): Promise<NotifierView> {
    await this.apiRecord(notifier.id);
    await this.db.query(`UPDATE notifiers SET content = $2::jsonb, updated_by = $3, updated_at = now() WHERE id = $1`, [
      notifier.id,
      JSON.stringify(notifier),
      user,
    ]);
    return this.get(notifier.id);
  }

  /** Removes an API notifier; its pending deliveries end `dead` at their next attempt, its history stays. */
  async remove(id: string): Promise<void> {
    await this.apiRecord(id);
    await this.notifiers.delete({ id });
  }

  /** Newest first, optionally only those in one status. */
  async deliveries(id: string, { limit, status }: { limit: number; status?: DeliveryStatus }): Promise<DeliveryView[]> {
    await this.record(id);
    const rows: (NotificationDelivery & { eventType: string; eventTitle: string; occurredAt: Date })[] = await this.db.query(
      `SELECT d.id, d.event_id AS "eventId", d.status, d.attempts, d.next_attempt_at AS "nextAttemptAt",
              d.last_attempt_at AS "lastAttemptAt", d.last_status AS "lastStatus", d.last_error AS "lastError",
              d.created_at AS "createdAt", d.delivered_at AS "deliveredAt",
              e.type AS "eventType", e.payload->>'title' AS "eventTitle", e.occurred_at AS "occurredAt"
         FROM notification_deliveries d JOIN notification_events e ON e.id = d.event_id
        WHERE d.notifier_id = $1 AND ($3::text IS NULL OR d.status = $3)
        ORDER BY d.id DESC LIMIT $2`,
      [id, limit, status ?? null],
    );
    return rows.map((d) => ({
      id: String(d.id),
      event: { id: d.eventId, type: d.eventType, title: d.eventTitle, occurredAt: d.occurredAt },
      status: d.status,
      attempts: d.attempts,
      nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
      lastAttemptAt: d.lastAttemptAt,
      lastStatus: d.lastStatus,
      lastError: d.lastError,
      createdAt: d.createdAt,
      deliveredAt: d.deliveredAt,
    }));
  }

  private async record(id: string): Promise<NotifierRecord> {
    const record = await this.notifiers.findOneBy({ id });
    if (!record) throw new NotFoundException(`notifier "${id}" not found`);
    return record;
  }

  private async apiRecord(id: string): Promise<NotifierRecord> {
    const record = await this.record(id);
    if (record.sourceFile) throw new ConflictException(`notifier "${id}" is defined in ${record.sourceFile}; change it there`);
    return record;
  }
}

function view(record: NotifierRecord, deliveries: NotifierView['deliveries']): NotifierView {
  const { apiVersion: _apiVersion, kind: _kind, ...notifier } = record.content;
  return { ...notifier, sourceFile: record.sourceFile, updatedAt: record.updatedAt, deliveries };
}
