/** Small installation-wide values that all portal replicas must share (e.g. the dispatch signing key). */
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('settings')
export class Setting {
  @PrimaryColumn('text') key!: string;
  @Column('text') value!: string;
}
