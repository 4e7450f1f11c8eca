/** A person who signs in to the portal: with a password (local), or through single sign-on (oidc). */
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { RoleGrant } from './permissions';

export type { RoleGrant } from './permissions';

@Entity('users')
export class User {
  @PrimaryColumn('text') username!: string;
  @Column('text', { name: 'password_hash' }) passwordHash!: string;
  @Column('jsonb') roles!: RoleGrant[];
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
