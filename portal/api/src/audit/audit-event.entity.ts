/** A row of the append-only audit log; seq, prev_hash and hash are set by the database trigger, never by us. */
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ActorType } from './audit-event';

@Entity('audit_events')
export class AuditEvent {
  @PrimaryColumn('bigint') seq!: string;
  @Column('timestamptz') at!: Date;
  @Column('text', { name: 'actor_type' }) actorType!: ActorType;
  @Column('text') actor!: string;
  @Column('text') action!: string;
  @Column('text', { nullable: true }) target!: string | null;
  @Column('jsonb') details!: Record<string, unknown>;
  @Column('text', { nullable: true }) source!: string | null;
  @Column('text', { name: 'prev_hash' }) prevHash!: string;
  @Column('text') hash!: string;
}
