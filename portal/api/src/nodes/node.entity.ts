/** A machine runbooks can target: an agent that registered, the portal's own `local` host, or (later) an SSH node. */
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type NodeExecutor = 'agent' | 'local' | 'ssh';
export type NodeStatus = 'online' | 'offline';

@Entity('nodes')
export class NodeRecord {
  @PrimaryColumn('text') name!: string;
  @Column('text') executor!: NodeExecutor;
  @Column('jsonb') labels!: Record<string, string>;
  @Column('text', { nullable: true }) hostname!: string | null;
  @Column('text', { nullable: true }) version!: string | null;
  @Column('text') status!: NodeStatus;
  @Column('timestamptz', { name: 'last_seen', nullable: true }) lastSeen!: Date | null;
  @CreateDateColumn({ name: 'registered_at', type: 'timestamptz' }) registeredAt!: Date;
}
