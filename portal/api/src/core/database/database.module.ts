/**
 * The database connection: real PostgreSQL when DATABASE_URL is set, the embedded PGlite otherwise.
 * The schema comes from migrations, run at start; `synchronize` is never used.
 */
import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSourceOptions } from 'typeorm';
import { BATON_CONFIG, BatonConfig } from '../config';
import { EmbeddedPostgres } from './embedded-postgres';
import { Setting } from './setting.entity';
import { InitialSchema1763884800000 } from './migrations/1763884800000-initial-schema';
import { AccessControl1763971100000 } from './migrations/1763971100000-access-control';
import { AuditLog1763971200000 } from './migrations/1763971200000-audit-log';
import { Secrets1763971300000 } from './migrations/1763971300000-secrets';
import { Hooks1763971500000 } from './migrations/1763971500000-hooks';
import { Jobs1763971400000 } from './migrations/1763971400000-jobs';
import { Pools1763971700000 } from './migrations/1763971700000-pools';
import { Replicas1763971800000 } from './migrations/1763971800000-replicas';
import { Fleet1763971900000 } from './migrations/1763971900000-fleet';
import { Queue1763972000000 } from './migrations/1763972000000-queue';
import { Approvals1763972400000 } from './migrations/1763972400000-approvals';
import { SshNodes1763971600000 } from './migrations/1763971600000-ssh-nodes';
import { Notifications1763972300000 } from './migrations/1763972300000-notifications';
import { ExecutionReruns1763972310000 } from './migrations/1763972310000-execution-reruns';
import { RunbookRecord, RunbookVersion } from '../../runbooks/runbook.entity';
import { NodeRecord } from '../../nodes/node.entity';
import { SshNodeRecord } from '../../nodes/ssh-node.entity';
import { User } from '../../auth/user.entity';
import { ApiToken, LoginFailure, RefreshToken } from '../../auth/token.entity';
import { Execution, ExecutionDecision, NodeEventRow, NodeRun, StepRun } from '../../executions/execution.entity';
import { AuditEvent } from '../../audit/audit-event.entity';
import { Secret } from '../../secrets/secret.entity';
import { AlertRuleRecord, Hook, HookDelivery } from '../../hooks/hook.entity';
import { JobFire, JobRecord } from '../../jobs/job.entity';
import { PoolAction, PoolRecord } from '../../pools/pool.entity';
import { AgentIdentity, EnrollmentToken } from '../../fleet/fleet.entity';
import { NotificationDelivery, NotificationEventRecord, NotifierRecord } from '../../notifications/notification.entity';
import { ExecutionRerun } from '../../executions/execution-rerun.entity';

export const ENTITIES = [
  Setting,
  RunbookRecord,
  RunbookVersion,
  NodeRecord,
  SshNodeRecord,
  User,
  ApiToken,
  RefreshToken,
  LoginFailure,
  Execution,
  NodeRun,
  StepRun,
  NodeEventRow,
  ExecutionDecision,
  Secret,
  AuditEvent,
  Hook,
  HookDelivery,
  AlertRuleRecord,
  JobRecord,
  JobFire,
  PoolRecord,
  PoolAction,
  EnrollmentToken,
  AgentIdentity,
  NotifierRecord,
  NotificationEventRecord,
  NotificationDelivery,
  ExecutionRerun,
];
export const MIGRATIONS = [
  InitialSchema1763884800000,
  AccessControl1763971100000,
  AuditLog1763971200000,
  Secrets1763971300000,
  Jobs1763971400000,
  Hooks1763971500000,
  SshNodes1763971600000,
  Pools1763971700000,
  Replicas1763971800000,
  Fleet1763971900000,
  Queue1763972000000,
  Notifications1763972300000,
  ExecutionReruns1763972310000,
  Approvals1763972400000,
];

const EMBEDDED = Symbol('EMBEDDED_POSTGRES');

class EmbeddedPostgresLifecycle implements OnApplicationShutdown {
  constructor(@Inject(EMBEDDED) private readonly embedded: EmbeddedPostgres | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.embedded?.stop();
  }
}

@Module({})
class EmbeddedPostgresModule {
  static register(): DynamicModule {
    return {
      module: EmbeddedPostgresModule,
      providers: [
        {
          provide: EMBEDDED,
          inject: [BATON_CONFIG],
          useFactory: (config: BatonConfig) => (config.databaseUrl ? null : new EmbeddedPostgres(config.dataDir)),
        },
        EmbeddedPostgresLifecycle,
      ],
      exports: [EMBEDDED],
    };
  }
}

export async function dataSourceOptions(config: BatonConfig, embedded: EmbeddedPostgres | null): Promise<DataSourceOptions> {
  const common = { type: 'postgres' as const, entities: ENTITIES, migrations: MIGRATIONS, migrationsRun: true, synchronize: false };
  if (config.databaseUrl) return { ...common, url: config.databaseUrl, extra: { max: 20 } };
  const { socketDir, port } = await embedded!.start();
  // PGlite is one session underneath: one pooled connection keeps transactions from interleaving.
  return { ...common, host: socketDir, port, username: 'postgres', database: 'postgres', extra: { max: 1 } };
}

@Module({})
export class DatabaseModule {
  static forRoot(): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          imports: [EmbeddedPostgresModule.register()],
          inject: [BATON_CONFIG, EMBEDDED],
          useFactory: dataSourceOptions,
        }),
        TypeOrmModule.forFeature([Setting]),
      ],
      exports: [TypeOrmModule],
    };
  }
}
