/**
 * The `@AuditAction` of every route, looked up by method and path pattern. The middleware needs it because a
 * request refused by a guard never reaches the handler whose metadata names it.
 */
import { Injectable, OnApplicationBootstrap, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { AUDIT_ACTION, AuditActionMeta } from './audit-action.decorator';

@Injectable()
export class AuditRouteNames implements OnApplicationBootstrap {
  private readonly byRoute = new Map<string, AuditActionMeta>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!controller || !wrapper.instance) continue;
      const prototype = Object.getPrototypeOf(wrapper.instance) as Record<string, (...args: unknown[]) => unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        const meta = this.reflector.getAllAndOverride<AuditActionMeta | undefined>(AUDIT_ACTION, [handler, controller]);
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (!meta || method === undefined) continue;
        for (const path of joinPaths(Reflect.getMetadata(PATH_METADATA, controller), Reflect.getMetadata(PATH_METADATA, handler)))
          this.byRoute.set(`${RequestMethod[method]} ${path}`, meta);
      }
    }
  }

  of(method: string, routePath: string): AuditActionMeta | undefined {
    return this.byRoute.get(`${method.toUpperCase()} ${routePath}`);
  }
}

function joinPaths(prefixes: string | string[] | undefined, paths: string | string[] | undefined): string[] {
  const list = (p: string | string[] | undefined) => (Array.isArray(p) ? p : [p ?? '']);
  return list(prefixes).flatMap((prefix) =>
    list(paths).map(
      (path) =>
        '/' +
        [prefix, path]
          .map((p) => p.replace(/^\/+|\/+$/g, ''))
          .filter(Boolean)
          .join('/'),
    ),
  );
}
