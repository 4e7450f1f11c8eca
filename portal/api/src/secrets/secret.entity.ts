/** A stored secret: its value only as AES-256-GCM ciphertext, with the key id that encrypted it and who set it. */
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('secrets')
export class Secret {
  @PrimaryColumn('text') name!: string;
  @Column('bytea') ciphertext!: Buffer;
  @Column('bytea') iv!: Buffer;
  @Column('bytea', { name: 'auth_tag' }) authTag!: Buffer;
  /** Which master key encrypted this row (a fingerprint, not the key), so that keys can be rotated later. */
  @Column('text', { name: 'key_id' }) keyId!: string;
  @Column('text', { name: 'set_by' }) setBy!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
