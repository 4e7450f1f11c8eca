/** Prometheus metrics of the portal, on its own registry so that several apps in one process (tests) don't clash. */
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly executionsFinished = new Counter({
    name: 'baton_executions_finished_total',
    help: 'Executions that reached a final state, by status',
    labelNames: ['status'],
    registers: [this.registry],
  });

  readonly executionsStarted = new Counter({
    name: 'baton_executions_started_total',
    help: 'Executions started, by trigger type',
    labelNames: ['trigger'],
    registers: [this.registry],
  });

  readonly dispatchLatency = new Histogram({
    name: 'baton_dispatch_latency_seconds',
    help: 'Time from sending a dispatch order to the node acknowledging it',
    labelNames: ['executor'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 3],
    registers: [this.registry],
  });

  readonly agentsConnected = new Gauge({
    name: 'baton_agents_connected',
    help: 'Agents whose heartbeat is current',
    registers: [this.registry],
  });

  readonly jobLateness = new Histogram({
    name: 'baton_job_lateness_seconds',
    help: "Time from a job's fire time to its execution starting",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly jobFires = new Counter({
    name: 'baton_job_fires_total',
    help: 'Job fire times won by this replica, by what came of them (started, skipped, failed)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  readonly executionsQueued = new Gauge({
    name: 'baton_executions_queued',
    help: 'Executions accepted and waiting for a dispatcher (all replicas, as last counted by this one)',
    registers: [this.registry],
  });

  readonly executionsRefused = new Counter({
    name: 'baton_executions_refused_total',
    help: 'Runs refused at the door, by reason (queue_full: 429, concurrency: 409)',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  readonly executionDuration = new Histogram({
    name: 'baton_execution_duration_seconds',
    help: 'From acceptance to the final state (queue time included), by runbook and status',
    labelNames: ['runbook', 'status'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
    registers: [this.registry],
  });

  readonly httpRequestDuration = new Histogram({
    name: 'baton_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });

  readonly eventIngestLag = new Histogram({
    name: 'baton_event_ingest_lag_seconds',
    help: 'From a node emitting an event to the portal storing it (node clocks included)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    registers: [this.registry],
  });

  readonly watchdogActions = new Counter({
    name: 'baton_watchdog_actions_total',
    help: 'Node runs the watchdog ended, by the status it gave them',
    labelNames: ['status'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
