/** The portal: every domain module, wired to one validated configuration. */
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import PinoPretty from 'pino-pretty';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { BatonConfig } from './core/config';
import { CoreModule } from './core/core.module';
import { ApprovalsModule } from './approvals/approvals.module';
import { DispatchModule } from './dispatch/dispatch.module';
import { FleetModule } from './fleet/fleet.module';
import { ExecutionsModule } from './executions/executions.module';
import { HooksModule } from './hooks/hooks.module';
import { InstallModule } from './install/install.module';
import { JobsModule } from './jobs/jobs.module';
import { NodesModule } from './nodes/nodes.module';
import { NotificationsModule } from './notifications/notifications.module';
import { PoolsModule } from './pools/pools.module';
import { RetentionModule } from './retention/retention.module';
import { RunbooksModule } from './runbooks/runbooks.module';
import { SecretsModule } from './secrets/secrets.module';

@Module({})
export class AppModule {
  static forRoot(config: BatonConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: [
            {
              level: config.logLevel,
              autoLogging: false,
              // Secrets and tokens never reach the log.
              redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.accessToken', '*.refreshToken', '*.token'],
              serializers: { req: withoutUrlCredentials },
            },
            logDestination(config.logFormat),
          ],
        }),
        CoreModule.register(config),
        AuthModule,
        SecretsModule,
        RunbooksModule,
        NodesModule,
        ExecutionsModule,
        FleetModule,
        DispatchModule,
        ApprovalsModule,
        AuditModule,
        HooksModule,
        JobsModule,
        PoolsModule,
        RetentionModule,
        InstallModule,
        NotificationsModule,
      ],
    };
  }
}

/**
 * The live log stream takes its access token in the query string (EventSource cannot send headers), and the
 * single sign-on callback carries a code and state: keep them out of logged URLs.
 */
function withoutUrlCredentials(req: { url?: string; query?: Record<string, unknown>; params?: Record<string, unknown> }) {
  const hide = (text: string) => text.replace(/([?&](?:access_token|code|state)=)[^&]*/g, '$1[Redacted]');
  const { query: _query, params: _params, ...rest } = req;
  return { ...rest, url: req.url ? hide(req.url) : req.url };
}

/**
 * Readable lines for a person at a terminal, one JSON object per line for everything else (files, pipes, log
 * collectors). Pretty-printing happens in this thread: it is for a developer's terminal, not for volume.
 */
function logDestination(format: BatonConfig['logFormat']): NodeJS.WritableStream {
  const isPretty = format === 'pretty' || (format === undefined && process.stdout.isTTY === true);
  if (!isPretty) return process.stdout;
  return PinoPretty({
    destination: 1,
    sync: true,
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context',
    messageFormat: '{if context}{context}: {end}{msg}',
  });
}
