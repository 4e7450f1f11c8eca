/** Credentials issued to a user: API tokens for scripts, refresh tokens for the UI. Only hashes of their secrets are kept. */
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { RoleGrant } from './permissions';

@Entity('api_tokens')
export class ApiToken {
  @PrimaryColumn('text') id!: string;
  @Column('text') name!: string;
  @Column('text') username!: string;
  @Column('text', { name: 'secret_hash' }) secretHash!: string;
  /** Null: the token acts with its user's roles, whatever they are at the time of the call. */
  @Column('jsonb', { nullable: true }) roles!: RoleGrant[] | null;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'last_used_at', nullable: true }) lastUsedAt!: Date | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
}

@Entity('refresh_tokens')
export class RefreshToken {
  @PrimaryColumn('text') id!: string;
  /** Every token rotated from one sign-in shares a family: a reused token revokes the whole family. */
  @Column('text') family!: string;
  @Column('text') username!: string;
  @Column('text', { name: 'secret_hash' }) secretHash!: string;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt!: Date;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'used_at', nullable: true }) usedAt!: Date | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
}

@Entity('login_failures')
export class LoginFailure {
  @PrimaryColumn('bigint', { generated: 'increment' }) id!: string;
  @Column('text') username!: string;
  @Column('text') source!: string;
  @Column('timestamptz', { default: () => 'now()' }) at!: Date;
}
