/** Liveness (the process answers) and readiness (database and, when configured, NATS are reachable). */
import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { NatsService } from './nats.service';
import { Public } from './public.decorator';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly nats: NatsService,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    const database = await this.db.query('SELECT 1').then(
      () => 'up',
      () => 'down',
    );
    const nats = this.nats.isEnabled ? (this.nats.isConnected ? 'up' : 'down') : 'disabled';
    const checks = { database, nats };
    if (database === 'down' || nats === 'down') {
      throw new ServiceUnavailableException({ message: `not ready: ${JSON.stringify(checks)}`, details: checks });
    }
    return { status: 'ok', checks };
  }
}
