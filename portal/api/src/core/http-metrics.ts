/**
 * HTTP request durations by route pattern (not by path: ids would make a label per request) and status, for
 * /metrics. Requests no route matched are counted under `unmatched`.
 */
import type { NextFunction, Request, Response } from 'express';
import type { MetricsService } from './metrics.service';

export function httpMetrics(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequestDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
    });
    next();
  };
}
