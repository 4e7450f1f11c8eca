/** A runbook as currently loaded, and every content-hashed version it has had (executions point to a version). */
import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { Runbook } from '@baton/shared';

@Entity('runbooks')
export class RunbookRecord {
  @PrimaryColumn('text') id!: string;
  @Column('text') namespace!: string;
  @Column('text') title!: string;
  @Column('text', { name: 'current_hash' }) currentHash!: string;
  @Column('jsonb') content!: Runbook;
  @Column('text', { name: 'source_file', nullable: true }) sourceFile!: string | null;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

@Entity('runbook_versions')
export class RunbookVersion {
  @PrimaryColumn('text') hash!: string;
  @Column('text', { name: 'runbook_id' }) runbookId!: string;
  @Column('jsonb') content!: Runbook;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
