/** A person who signs in to the portal: with a password (`local`), or through single sign-on (`oidc`, no password). */
import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { RoleGrant } from './permissions';

export type { RoleGrant } from './permissions';

@Entity('users')
export class User {
  @PrimaryColumn('text') username!: string;
  /** Empty for users who sign in through single sign-on: they have no password that could match. */
  @Column('text', { name: 'password_hash' }) passwordHash!: string;
  @Column('jsonb') roles!: RoleGrant[];
  @Column('text') source!: 'local' | 'oidc';
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
