/**
 * The fleet: enrollment tokens, agent identities and their acceptance, the credentials the portal issues agents
 * (NATS user JWTs in operator mode), the portal's dispatch signing key, and the trust the NATS transport checks
 * every agent message against.
 */
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { readFileSync } from 'node:fs';
import { BATON_CONFIG, BatonConfig } from '../core/config';
import { ExecutionsModule } from '../executions/executions.module';
import { NodesModule } from '../nodes/nodes.module';
import { AgentTrustService } from './agent-trust.service';
import { AgentsController } from './agents.controller';
import { AgentsService } from './agents.service';
import { EnrollmentTokensController } from './enrollment-tokens.controller';
import { EnrollmentTokensService } from './enrollment-tokens.service';
import { AgentIdentity, EnrollmentToken } from './fleet.entity';
import { NATS_AUTHORITY } from './fleet.tokens';
import { NatsAuthority } from './nats-authority';
import { SigningKeyService } from './signing-key.service';

@Module({
  imports: [TypeOrmModule.forFeature([AgentIdentity, EnrollmentToken]), NodesModule, ExecutionsModule],
  controllers: [AgentsController, EnrollmentTokensController],
  providers: [
    AgentsService,
    AgentTrustService,
    EnrollmentTokensService,
    SigningKeyService,
    {
      provide: NATS_AUTHORITY,
      inject: [BATON_CONFIG],
      useFactory: (config: BatonConfig) => natsAuthority(config),
    },
  ],
  exports: [AgentTrustService, EnrollmentTokensService, SigningKeyService],
})
export class FleetModule {}

/** Operator mode when `npm run nats:setup` configured it; none on a plain NATS server (development, tests). */
function natsAuthority(config: BatonConfig): NatsAuthority | undefined {
  const settings = config.fleet.natsAuthority;
  if (!settings || !config.nats) return undefined;
  return new NatsAuthority({
    accountSigningSeed: settings.accountSigningSeed,
    accountJwt: settings.accountJwt,
    operatorSigningSeed: settings.operatorSigningSeed,
    systemCreds: settings.systemCredsFile ? readFileSync(settings.systemCredsFile) : undefined,
    natsUrl: config.nats.url,
  });
}
