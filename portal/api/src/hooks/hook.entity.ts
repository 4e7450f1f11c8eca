/** Hooks, their deliveries, and alert rules as stored; episodes and remediations are reached by SQL in the services. */
import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { AlertRule } from '@baton/shared';

export type HookType = 'alertmanager' | 'generic';
export type DeliveryStatus = 'pending' | 'processed' | 'failed';

/** What one alert of a delivery caused, for `GET /api/v1/hooks/{name}/deliveries`. */
export interface AlertOutcome {
  fingerprint: string;
  alertname?: string;
  status: 'firing' | 'resolved';
  rule?: string;
  /** `refused`: the rule's pool action was refused by the pool (cooldown, bounds) and recorded as a refused action. */
  result: 'started' | 'duplicate' | 'suppressed' | 'refused' | 'no-rule' | 'resolved' | 'error';
  executionId?: string;
  /** The pool action started (or refused) by a rule with `action: { pool, by | to }`. */
  poolActionId?: string;
  message?: string;
}

@Entity('hooks')
export class Hook {
  @PrimaryColumn('text') name!: string;
  @Column('text') type!: HookType;
  /** sha256 of an Alertmanager hook's bearer token; the token itself is shown once and never stored. */
  @Column('text', { name: 'token_hash', nullable: true }) tokenHash!: string | null;
  /** A generic hook's HMAC key, encrypted with the master key: verifying a signature needs the key itself. */
  @Column('bytea', { name: 'secret_ciphertext', nullable: true }) secretCiphertext!: Buffer | null;
  @Column('bytea', { name: 'secret_iv', nullable: true }) secretIv!: Buffer | null;
  @Column('bytea', { name: 'secret_auth_tag', nullable: true }) secretAuthTag!: Buffer | null;
  @Column('text', { name: 'key_id', nullable: true }) keyId!: string | null;
  @Column('text', { name: 'alerts_path', nullable: true }) alertsPath!: string | null;
  @Column('text', { name: 'created_by' }) createdBy!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
}

@Entity('hook_deliveries')
export class HookDelivery {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('text') hook!: string;
  @Column('timestamptz', { name: 'received_at' }) receivedAt!: Date;
  @Column('text', { nullable: true }) source!: string | null;
  @Column('text') status!: DeliveryStatus;
  @Column('jsonb') payload!: unknown;
  @Column('integer') attempts!: number;
  @Column('timestamptz', { name: 'processed_at', nullable: true }) processedAt!: Date | null;
  @Column('jsonb', { nullable: true }) outcomes!: AlertOutcome[] | null;
  @Column('text', { nullable: true }) error!: string | null;
}

@Entity('alert_rules')
export class AlertRuleRecord {
  @PrimaryColumn('text') id!: string;
  @Column('jsonb') content!: AlertRule;
  /** The file that defines the rule; null for rules made through the API. File rules are changed in their file. */
  @Column('text', { name: 'source_file', nullable: true }) sourceFile!: string | null;
  /** Remediations before this moment no longer count towards maxPerHour (an admin reset the breaker). */
  @Column('timestamptz', { name: 'breaker_reset_at', nullable: true }) breakerResetAt!: Date | null;
  /** Set while the breaker is open (the rule is suppressing remediations). */
  @Column('timestamptz', { name: 'tripped_at', nullable: true }) trippedAt!: Date | null;
  @Column('text', { name: 'updated_by', nullable: true }) updatedBy!: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
