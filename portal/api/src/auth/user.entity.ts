/** A person (or the bootstrap admin) who signs in to the portal. */
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export interface RoleGrant {
  role: 'viewer' | 'operator' | 'editor' | 'auditor' | 'admin';
  namespace?: string;
}

@Entity('users')
export class User {
  @PrimaryColumn('text') username!: string;
  @Column('text', { name: 'password_hash' }) passwordHash!: string;
  @Column('jsonb') roles!: RoleGrant[];
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
