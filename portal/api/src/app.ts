/** Builds the Nest application (used by main.ts and by the tests): pipes, request checks, error filter, OpenAPI, static UI. */
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import helmet from 'helmet';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppModule } from './app.module';
import type { BatonConfig } from './core/config';
import { HttpErrorFilter } from './core/http-error.filter';
import { useRequestChecks } from './core/request-bodies';
import { HOOK_RECEIVER_PATHS } from './hooks/hook-receiver.controller';
import { SecretsService } from './secrets/secrets.service';
import { httpMetrics } from './core/http-metrics';
import { MetricsService } from './core/metrics.service';

export async function createApp(config: BatonConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    // Registered below instead, with a limit per route (useRequestChecks).
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
  app.use(httpMetrics(app.get(MetricsService)));
  useRequestChecks(app, { api: config.bodyLimit, hook: config.hookBodyLimit, hookPaths: HOOK_RECEIVER_PATHS });
  // Closed unless configured: the portal's own UI is same-origin and needs no CORS.
  if (config.corsOrigins.length > 0) app.enableCors({ origin: config.corsOrigins, credentials: false, maxAge: 600 });

  const openApi = new DocumentBuilder().setTitle('Baton API').setVersion('v1').addBearerAuth().build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, openApi));

  const webDir = resolve(config.webDir ?? join(__dirname, '..', '..', '..', 'dist', 'portal', 'web', 'browser'));
  if (existsSync(join(webDir, 'index.html'))) {
    app.useStaticAssets(webDir);
    // Client-side routes (e.g. /executions/123) get the app shell; API and docs paths are left alone.
    app.use((req: { method: string; path: string }, res: { sendFile(p: string): void }, next: () => void) => {
      const isAppRoute = req.method === 'GET' && !/^\/(api|health|metrics|install)(\/|$)/.test(req.path);
      if (isAppRoute) res.sendFile(join(webDir, 'index.html'));
      else next();
    });
  }
  return app;
}

/** `BATON_TRUST_PROXY`: `true`, a hop count, or addresses/subnets, as Express understands them. */
function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}
