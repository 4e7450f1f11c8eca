/** The runbook library: loading, versions, and the read API. */
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RunbookRecord, RunbookVersion } from './runbook.entity';
import { RunbooksController } from './runbooks.controller';
import { RunbooksService } from './runbooks.service';

@Module({
  imports: [TypeOrmModule.forFeature([RunbookRecord, RunbookVersion])],
  controllers: [RunbooksController],
  providers: [RunbooksService],
  exports: [RunbooksService],
})
export class RunbooksModule {}
