/** A job as stored (from a file under RUNBOOKS_DIR or created through the API), and the fire times claimed for it. */
import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { Job } from '@baton/shared';

@Entity('jobs')
export class JobRecord {
  @PrimaryColumn('text') id!: string;
  @Column('text') namespace!: string;
  @Column('text', { name: 'runbook_id' }) runbookId!: string;
  @Column('jsonb') content!: Job;
  @Column('boolean') enabled!: boolean;
  @Column('text', { name: 'source_file', nullable: true }) sourceFile!: string | null;
  /** When the schedule last changed (or the job was enabled): fire times before it were never owed. */
  @Column('timestamptz', { name: 'scheduled_since' }) scheduledSince!: Date;
  @Column('text', { name: 'created_by' }) createdBy!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** `schedule`: a regular fire time; `misfire`: the one fire standing for times missed while no portal ran; `manual`: run now. */
export type FireKind = 'schedule' | 'misfire' | 'manual';
/** `claimed` is the short moment between winning the fire time and starting (or not) its execution. */
export type FireOutcome = 'claimed' | 'started' | 'skipped' | 'failed';

@Entity('job_fires')
export class JobFire {
  @PrimaryColumn('text', { name: 'job_id' }) jobId!: string;
  @PrimaryColumn('timestamptz', { name: 'fire_time' }) fireTime!: Date;
  @Column('text') kind!: FireKind;
  @Column('text') outcome!: FireOutcome;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('uuid', { name: 'execution_id', nullable: true }) executionId!: string | null;
  /** For a misfire: the end of the stretch of missed fire times this one fire stands for. */
  @Column('timestamptz', { name: 'covers_until', nullable: true }) coversUntil!: Date | null;
  /** The replica that won the fire time. */
  @Column('text', { name: 'claimed_by' }) claimedBy!: string;
  @Column('timestamptz', { name: 'claimed_at' }) claimedAt!: Date;
}
