/** Cross-cutting services every domain module may use: configuration, database, settings, NATS, metrics, this replica. */
import { DynamicModule, Global, Module } from '@nestjs/common';
import { BATON_CONFIG, BatonConfig } from './config';
import { DatabaseModule } from './database/database.module';
import { MetricsService } from './metrics.service';
import { NatsService } from './nats.service';
import { ReplicaService } from './replica.service';
import { SettingsService } from './settings.service';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';

@Global()
@Module({})
export class ConfigHolderModule {
  static register(config: BatonConfig): DynamicModule {
    return { module: ConfigHolderModule, providers: [{ provide: BATON_CONFIG, useValue: config }], exports: [BATON_CONFIG] };
  }
}

@Global()
@Module({})
export class CoreModule {
  static register(config: BatonConfig): DynamicModule {
    return {
      module: CoreModule,
      imports: [ConfigHolderModule.register(config), DatabaseModule.forRoot()],
      controllers: [HealthController, MetricsController],
      providers: [MetricsService, NatsService, ReplicaService, SettingsService],
      exports: [MetricsService, NatsService, ReplicaService, SettingsService, DatabaseModule],
    };
  }
}
