/** Secrets: encrypted storage, the API to manage them, lookups for dispatch and masking for everyone (global). */
import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Secret } from './secret.entity';
import { SecretsController } from './secrets.controller';
import { SecretsService } from './secrets.service';

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([Secret])],
  controllers: [SecretsController],
  providers: [SecretsService],
  exports: [SecretsService],
})
export class SecretsModule {}
