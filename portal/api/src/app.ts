/** Builds the Nest application (used by main.ts and by the tests): pipes, error filter, OpenAPI, static UI. */
import { UnsupportedMediaTypeException, ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import helmet from 'helmet';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppModule } from './app.module';
import type { BatonConfig } from './core/config';
import { clientErrorAsHttpException, HttpErrorFilter } from './core/http-error.filter';
import { HOOK_RECEIVER_PATHS } from './hooks/hook-receiver.controller';
import { SecretsService } from './secrets/secrets.service';

export async function createApp(config: BatonConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    // Registered below instead, with a limit per route (useBodyParsers).
    bodyParser: false,
    // The raw bytes of JSON bodies (req.rawBody): generic hooks are authenticated by an HMAC of exactly these bytes.
    rawBody: true,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }));
  const secrets = app.get(SecretsService);
  app.useGlobalFilters(new HttpErrorFilter((text) => secrets.mask(text)));
  app.enableShutdownHooks();
  app.disable('x-powered-by');
  if (config.trustProxy) app.set('trust proxy', parseTrustProxy(config.trustProxy));
  app.use(helmet());
  useBodyParsers(app, config);
  // Closed unless configured: the portal's own UI is same-origin and needs no CORS.
  if (config.corsOrigins.length > 0) app.enableCors({ origin: config.corsOrigins, credentials: false, maxAge: 600 });

  const openApi = new DocumentBuilder().setTitle('Baton API').setVersion('v1').addBearerAuth().build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, openApi));

  const webDir = resolve(config.webDir ?? join(__dirname, '..', '..', '..', 'dist', 'portal', 'web', 'browser'));
  if (existsSync(join(webDir, 'index.html'))) {
    app.useStaticAssets(webDir);
    // Client-side routes (e.g. /executions/123) get the app shell; API and docs paths are left alone.
    app.use((req: { method: string; path: string }, res: { sendFile(p: string): void }, next: () => void) => {
      const isAppRoute = req.method === 'GET' && !/^\/(api|health|metrics)(\/|$)/.test(req.path);
      if (isAppRoute) res.sendFile(join(webDir, 'index.html'));
      else next();
    });
  }
  return app;
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Request bodies are JSON, nothing else. The hook receivers take what monitoring sends (`BATON_HOOK_BODY_LIMIT`: an
 * Alertmanager group of hundreds of alerts is megabytes), every other route the modest `BATON_BODY_LIMIT`; runbook
 * parameters have their own limits in the runbook. A body in another content type is refused 415 and one whose
 * Content-Length is over the limit 413, both before it is read; a chunked body 413 once the bytes read pass the
 * limit. Parser errors become HTTP exceptions here, so HttpErrorFilter answers each with its status.
 */
function useBodyParsers(app: NestExpressApplication, config: BatonConfig): void {
  const limits = { hook: parseSize(config.hookBodyLimit), api: parseSize(config.bodyLimit) };
  app.use((req: Request, res: Response, next: NextFunction) =>
    refuseUnwantedBody(req, res, next, isHookReceiver(req) ? limits.hook : limits.api),
  );
  app.useBodyParser('json', { limit: limits.hook, type: (req) => isHookReceiver(req as Request) && isJson(req as Request) });
  app.useBodyParser('json', { limit: limits.api, type: (req) => !isHookReceiver(req as Request) && isJson(req as Request) });
  app.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => next(clientErrorAsHttpException(err) ?? err));
}

function refuseUnwantedBody(req: Request, res: Response, next: NextFunction, limitBytes: number): void {
  const length = Number(req.headers['content-length'] ?? 0);
  const hasContent = req.headers['transfer-encoding'] !== undefined || length > 0;
  if (!hasContent) return next();
  if (!isJson(req)) {
    const type = req.headers['content-type'] ?? 'none';
    return next(new UnsupportedMediaTypeException(`unsupported content type "${type}": request bodies are JSON (application/json)`));
  }
  if (length > limitBytes) {
    // Answered without reading the body; closing the connection keeps the rest of it from being read for nothing.
    res.setHeader('connection', 'close');
    return next(clientErrorAsHttpException({ status: 413, expose: true, type: 'entity.too.large', limit: limitBytes, length }));
  }
  next();
}

function isJson(req: Request): boolean {
  return Boolean(req.is(JSON_TYPES));
}

function isHookReceiver(req: Request): boolean {
  const path = req.path.toLowerCase();
  return HOOK_RECEIVER_PATHS.some((prefix) => path.startsWith(prefix));
}

/** `100kb`, `5mb`, `512b` (the forms config.ts accepts) in bytes. */
function parseSize(size: string): number {
  const [, amount, unit] = /^(\d+)(b|kb|mb)$/i.exec(size) ?? ['', size, 'b'];
  const factor = { b: 1, kb: 1024, mb: 1024 * 1024 }[unit.toLowerCase() as 'b' | 'kb' | 'mb'];
  return Number(amount) * factor;
}

/** `BATON_TRUST_PROXY`: `true`, a hop count, or addresses/subnets, as Express understands them. */
function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}
