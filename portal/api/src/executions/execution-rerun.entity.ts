/** The link from an execution started by "Run again" (or "Retry failed nodes") to the one it repeats. */
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('execution_reruns')
export class ExecutionRerun {
  @PrimaryColumn('uuid', { name: 'execution_id' }) executionId!: string;
  @Column('uuid', { name: 'rerun_of' }) rerunOf!: string;
  @Column('boolean', { name: 'is_only_failed_nodes' }) isOnlyFailedNodes!: boolean;
  @Column('text', { name: 'requested_by' }) requestedBy!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
}
