import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../auth/auth.service';
import { CurrentUser } from '../auth/current-user.decorator';
import { DispatchService } from './dispatch.service';
import { StartExecutionDto } from './dto/start-execution.dto';

@ApiTags('executions')
@ApiBearerAuth()
@Controller('api/v1')
export class RunController {
  constructor(private readonly dispatch: DispatchService) {}

  @Post('runbooks/:id/executions')
  async start(@Param('id') runbookId: string, @Body() body: StartExecutionDto, @CurrentUser() user: Principal) {
    const execution = await this.dispatch.start({
      runbookId,
      params: body.params ?? {},
      targets: body.targets,
      trigger: { type: 'user', user: user.username },
      actor: user.username,
    });
    return { id: execution.id, status: execution.status };
  }

  @Post('executions/:id/cancel')
  @HttpCode(202)
  async cancel(@Param('id', ParseUUIDPipe) id: string, @CurrentUser() user: Principal) {
    const execution = await this.dispatch.cancel(id, `cancelled by ${user.username}`);
    return { id: execution.id, status: execution.status };
  }
}
