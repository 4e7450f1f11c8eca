/** How to reach an agentless node over SSH; the node itself (name, labels, status) is its row in `nodes`. */
import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity('ssh_nodes')
export class SshNodeRecord {
  @PrimaryColumn('text') name!: string;
  @Column('text') host!: string;
  @Column('integer') port!: number;
  @Column('text', { name: 'ssh_user' }) user!: string;
  @Column('text', { name: 'key_secret', nullable: true }) keySecret!: string | null;
  @Column('text', { name: 'password_secret', nullable: true }) passwordSecret!: string | null;
  /** As declared: a fingerprint, or `tofu`. */
  @Column('text', { name: 'host_key' }) hostKey!: string;
  /** The fingerprint connections must present: the declared one, or the first one seen under `tofu`. */
  @Column('text', { name: 'pinned_host_key', nullable: true }) pinnedHostKey!: string | null;
  @Column('text', { name: 'jump_host', nullable: true }) jumpHost!: string | null;
  /** The YAML file that declares it; null when created through the API. */
  @Column('text', { name: 'source_file', nullable: true }) sourceFile!: string | null;
  @Column('text', { name: 'check_reason', nullable: true }) checkReason!: string | null;
  @Column('timestamptz', { name: 'checked_at', nullable: true }) checkedAt!: Date | null;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
