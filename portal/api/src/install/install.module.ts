/** Installing agents: the one-file agent and its install script, served by the portal (see install.controller.ts). */
import { Module } from '@nestjs/common';
import { InstallController } from './install.controller';
import { InstallService } from './install.service';

@Module({
  controllers: [InstallController],
  providers: [InstallService],
})
export class InstallModule {}
