/**
 * `/install`, outside /api/v1 and public (a new node has no account): the one-file agent and the script that installs
 * it, `curl -fsSL https://portal:3000/install/agent.sh | sudo sh -s -- --token TOKEN`. The token, not this route,
 * decides whether a node may join.
 */
import { BadRequestException, Controller, Get, Header, Inject, Req, Res, StreamableFile } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { BATON_CONFIG, type BatonConfig } from '../core/config';
import { Public } from '../core/public.decorator';
import { installPortalUrl } from './install-script';
import { InstallService } from './install.service';

@ApiExcludeController()
@Public()
@Controller('install')
export class InstallController {
  constructor(
    private readonly install: InstallService,
    @Inject(BATON_CONFIG) private readonly config: BatonConfig,
  ) {}

  @Get('baton-agent')
  async agentBinary(@Res({ passthrough: true }) res: Response): Promise<StreamableFile> {
    const binary = await this.install.openAgentBinary();
    res.setHeader('X-Checksum-Sha256', binary.sha256);
    res.setHeader('Cache-Control', 'no-store');
    return new StreamableFile(binary.stream, {
      type: 'application/octet-stream',
      length: binary.bytes,
      disposition: 'attachment; filename="baton-agent"',
    });
  }

  @Get('agent.sh')
  @Header('Content-Type', 'text/x-shellscript; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  agentInstallScript(@Req() req: Request): Promise<string> {
    const portalUrl = installPortalUrl(this.config.publicUrl, { protocol: req.protocol, host: req.host });
    if (!portalUrl) {
      throw new BadRequestException(
        "cannot tell this portal's address for the install script: set BATON_PUBLIC_URL to it, such as https://baton.example.com " +
          "(without it the request's Host header is used, and only when it is a plain host[:port])",
      );
    }
    return this.install.agentInstallScript(portalUrl);
  }
}
