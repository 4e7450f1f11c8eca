/** Scheduled jobs: definitions (files and API), the scheduler that fires them once across replicas, and the API. */
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DispatchModule } from '../dispatch/dispatch.module';
import { RunbooksModule } from '../runbooks/runbooks.module';
import { JobScheduler } from './job-scheduler.service';
import { JobFire, JobRecord } from './job.entity';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

@Module({
  imports: [TypeOrmModule.forFeature([JobRecord, JobFire]), RunbooksModule, DispatchModule],
  controllers: [JobsController],
  providers: [JobsService, JobScheduler],
})
export class JobsModule {}
