import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Principal } from './auth.service';

/** The signed-in user of the request (set by the JWT guard). */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest().user);
