/** A pool as stored (definition and desired size) and one scaling action of a pool. */
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Pool, PoolChange } from '@baton/shared';

export const POOL_ACTION_STATUSES = ['pending_approval', 'running', 'settling', 'succeeded', 'failed', 'rejected', 'refused'] as const;
export type PoolActionStatus = (typeof POOL_ACTION_STATUSES)[number];

/** Who or what asked for a change: a person, an alert rule (through a hook), or a scheduled job. */
export type ScaleRequester =
  | { type: 'user'; user: string; isAdmin: boolean; token?: string }
  | { type: 'alert'; rule: string; hook: string; fingerprint: string }
  | { type: 'job'; job: string; fireTime?: string };

/** What the verification saw: the live nodes matching the selector when the action ended. */
export interface Verification {
  target: number;
  actual: number;
  nodes: string[];
  at: string;
}

@Entity('pools')
export class PoolRecord {
  @PrimaryColumn('text') id!: string;
  @Column('jsonb') content!: Pool;
  @Column('text', { name: 'source_file', nullable: true }) sourceFile!: string | null;
  /** The size the provider was last asked for; null until the first action (then the live count is the start). */
  @Column('integer', { nullable: true }) desired!: number | null;
  @Column('timestamptz', { name: 'last_action_at', nullable: true }) lastActionAt!: Date | null;
  @Column('text', { name: 'updated_by', nullable: true }) updatedBy!: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

@Entity('pool_actions')
export class PoolAction {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'pool_id' }) poolId!: string;
  @Column('text') status!: PoolActionStatus;
  @Column('jsonb', { name: 'requested_by' }) requestedBy!: ScaleRequester;
  /** As asked: `{ by }` or `{ to }`; an approval re-applies it to the pool as it is then. */
  @Column('jsonb') request!: Omit<PoolChange, 'pool'>;
  @Column('text') reason!: string;
  @Column('boolean', { name: 'is_forced' }) isForced!: boolean;
  @Column('integer', { name: 'from_size' }) from!: number;
  @Column('integer', { name: 'to_size' }) to!: number;
  /** On scale-in, the nodes the provider was asked to remove. */
  @Column('jsonb') nodes!: string[];
  @Column('uuid', { name: 'execution_id', nullable: true }) executionId!: string | null;
  @Column('text', { name: 'decided_by', nullable: true }) decidedBy!: string | null;
  /** Why it failed, was refused or rejected. */
  @Column('text', { nullable: true }) message!: string | null;
  @Column('jsonb', { nullable: true }) verification!: Verification | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'settle_started_at', nullable: true }) settleStartedAt!: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
}
