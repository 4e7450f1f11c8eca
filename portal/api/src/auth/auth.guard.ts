/**
 * The global guard, deny by default: a route is open only when marked @Public(); every other route needs a
 * signed-in caller (JWT or API token, else 401) holding the permission the route declares with
 * @RequirePermission (else 403). A route that declares nothing is refused to everyone.
 */
import { ExecutionContext, ForbiddenException, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { IS_PUBLIC } from '../core/public.decorator';
import { canAnywhere, Permission, Principal, REQUIRED_PERMISSION } from './permissions';

@Injectable()
export class AccessGuard extends AuthGuard(['api-token', 'jwt']) {
  private readonly logger = new Logger(AccessGuard.name);

  constructor(private readonly reflector: Reflector) {
    super();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    await super.canActivate(context); // throws 401 without valid credentials
    const request = context.switchToHttp().getRequest<{ user: Principal; method: string; path: string }>();
    const permission = this.reflector.getAllAndOverride<Permission | undefined>(REQUIRED_PERMISSION, targets);
    if (!permission) {
      this.logger.error({ method: request.method, path: request.path }, 'route declares no permission: refused');
      throw new ForbiddenException('this route declares no permission and is refused to everyone');
    }
    if (!canAnywhere(request.user, permission)) {
      throw new ForbiddenException(`your roles do not grant "${permission}"`);
    }
    return true;
  }
}

@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {}
