/** The portal: every domain module, wired to one validated configuration. */
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { BatonConfig } from './core/config';
import { CoreModule } from './core/core.module';
import { DispatchModule } from './dispatch/dispatch.module';
import { ExecutionsModule } from './executions/executions.module';
import { HooksModule } from './hooks/hooks.module';
import { NodesModule } from './nodes/nodes.module';
import { PoolsModule } from './pools/pools.module';
import { RunbooksModule } from './runbooks/runbooks.module';
import { SecretsModule } from './secrets/secrets.module';

@Module({})
export class AppModule {
  static forRoot(config: BatonConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            autoLogging: false,
            // Secrets and tokens never reach the log.
            redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.accessToken'],
          },
        }),
        CoreModule.register(config),
        AuthModule,
        SecretsModule,
        RunbooksModule,
        NodesModule,
        ExecutionsModule,
        DispatchModule,
        AuditModule,
        HooksModule,
        PoolsModule,
      ],
    };
  }
}
