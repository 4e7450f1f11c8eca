/** Enrollment tokens and agent identities: who may join the fleet, with which keys, decided by whom. */
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { AgentStatus } from '@baton/shared';

@Entity('enrollment_tokens')
export class EnrollmentToken {
  @PrimaryColumn('text') id!: string;
  /** SHA-256 of the token's secret part: the token itself is shown once and never stored. */
  @Column('text', { name: 'secret_hash' }) secretHash!: string;
  @Column('text', { nullable: true }) description!: string | null;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt!: Date;
  @Column('int', { name: 'max_uses' }) maxUses!: number;
  @Column('int') uses!: number;
  @Column('boolean', { name: 'auto_accept' }) autoAccept!: boolean;
  /** Labels every agent enrolled with this token gets, whatever it asks for (they cannot be overridden). */
  @Column('jsonb') labels!: Record<string, string>;
  @Column('text', { name: 'created_by' }) createdBy!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
}

@Entity('agent_identities')
export class AgentIdentity {
  @PrimaryColumn('text') name!: string;
  @Column('text') status!: AgentStatus;
  /** NKey user public key (`U...`): verifies what the agent signs; the subject of its NATS credentials. */
  @Column('text', { name: 'public_key', unique: true }) publicKey!: string;
  /** X25519 public key (base64): dispatch plans are sealed to it. */
  @Column('text', { name: 'box_public_key' }) boxPublicKey!: string;
  @Column('text') fingerprint!: string;
  /** The labels the agent asked for at enrollment, with its token's labels applied. */
  @Column('jsonb') labels!: Record<string, string>;
  /** The token's labels: an agent's later hellos cannot change them. */
  @Column('jsonb', { name: 'pinned_labels' }) pinnedLabels!: Record<string, string>;
  @Column('text', { nullable: true }) hostname!: string | null;
  @Column('text', { name: 'token_id', nullable: true }) tokenId!: string | null;
  @CreateDateColumn({ name: 'requested_at', type: 'timestamptz' }) requestedAt!: Date;
  @Column('timestamptz', { name: 'decided_at', nullable: true }) decidedAt!: Date | null;
  /** A user, `token:<id>` (a token with autoAccept) or `auto-accept` (BATON_AUTO_ACCEPT). */
  @Column('text', { name: 'decided_by', nullable: true }) decidedBy!: string | null;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('timestamptz', { name: 'credentials_issued_at', nullable: true }) credentialsIssuedAt!: Date | null;
}
