/** One run of a runbook, its NodeRuns (one per target node), StepRuns (one per step and attempt) and events. */
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { ParamValue, Targets } from '@baton/shared';
import type { ExecutionStatus, NodeRunStatus } from './state-machine';

export type Trigger =
  // `job` is set when the user (or token) ran a job now (`POST /api/v1/jobs/{id}/run`).
  | { type: 'user'; user: string; job?: string }
  | { type: 'token'; token: string; user: string; job?: string }
  | { type: 'schedule'; job: string; fireTime: string }
  /** A remediation started by an alert rule for the alert with this fingerprint, delivered through the hook. */
  | { type: 'webhook'; hook: string; rule: string; fingerprint: string }
  | { type: 'scaling'; pool: string };

/** The approval an execution waits for: its runbook's policy when the run was requested, and until when. */
export interface StoredApproval {
  required: number;
  approvers: { roles?: string[]; users?: string[] };
  selfApproval: boolean;
  /** Who asked (user name; the requester may not approve unless selfApproval). */
  requestedBy: string;
  timeoutAt: string;
}

@Entity('executions')
export class Execution {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'runbook_id' }) runbookId!: string;
  @Column('text', { name: 'runbook_hash' }) runbookHash!: string;
  @Column('text') status!: ExecutionStatus;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('jsonb') trigger!: Trigger;
  @Column('text') actor!: string;
  @Column('jsonb') params!: Record<string, ParamValue>;
  @Column('jsonb') targets!: Targets;
  @Column('integer', { name: 'timeout_ms' }) timeoutMs!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
  @Column('timestamptz', { name: 'cancel_requested_at', nullable: true }) cancelRequestedAt!: Date | null;
  /** Set when the run needed approval; it stays as a record of what was asked. */
  @Column('jsonb', { nullable: true }) approval!: StoredApproval | null;
}

@Entity('execution_decisions')
export class ExecutionDecision {
  @PrimaryColumn('uuid', { name: 'execution_id' }) executionId!: string;
  @PrimaryColumn('text') username!: string;
  @Column('text') decision!: 'approved' | 'rejected';
  @Column('text', { nullable: true }) comment!: string | null;
  @Column('timestamptz') at!: Date;
}

@Entity('node_runs')
export class NodeRun {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'execution_id' }) executionId!: string;
  @Column('text') node!: string;
  @Column('text') executor!: string;
  @Column('integer') position!: number;
  @Column('text') status!: NodeRunStatus;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('timestamptz', { name: 'dispatched_at', nullable: true }) dispatchedAt!: Date | null;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
}

@Entity('step_runs')
export class StepRun {
  @PrimaryColumn('uuid', { name: 'node_run_id' }) nodeRunId!: string;
  @PrimaryColumn('text', { name: 'step_id' }) stepId!: string;
  @PrimaryColumn('integer') attempt!: number;
  @Column('text') status!: string;
  @Column('integer', { name: 'exit_code', nullable: true }) exitCode!: number | null;
  @Column('jsonb', { default: {} }) outputs!: Record<string, string>;
  @Column('text', { nullable: true }) error!: string | null;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
}

/** Every event a node reported, once: the primary key makes a redelivered event a no-op. Logs are `step.log` rows. */
@Entity('node_events')
export class NodeEventRow {
  @PrimaryColumn('uuid', { name: 'node_run_id' }) nodeRunId!: string;
  @PrimaryColumn('integer') seq!: number;
  @Column('text') type!: string;
  @Column('text', { name: 'step_id', nullable: true }) stepId!: string | null;
  @Column('integer', { nullable: true }) attempt!: number | null;
  @Column('text', { nullable: true }) stream!: string | null;
  @Column('text', { nullable: true }) data!: string | null;
  @Column('timestamptz') at!: Date;
}
