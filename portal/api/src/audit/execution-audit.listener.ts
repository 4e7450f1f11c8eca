/**
 * Execution starts and ends in the audit log, whoever triggered them (a user, a token, a schedule, a webhook, a
 * pool): heard from ExecutionsService's events, so the dispatch and state-machine code need not know about audit.
 */
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Execution, Trigger } from '../executions/execution.entity';
import { ExecutionsService } from '../executions/executions.service';
import type { AuditActor } from './audit-event';
import { AuditService } from './audit.service';

@Injectable()
export class ExecutionAuditListener implements OnApplicationBootstrap {
  private readonly logger = new Logger(ExecutionAuditListener.name);

  constructor(
    private readonly executions: ExecutionsService,
    private readonly audit: AuditService,
  ) {}

  onApplicationBootstrap(): void {
    this.executions.events.on('executionStarted', ({ execution }) => {
      void this.audit.record(startedEvent(execution)).catch((err) => this.failed(err, execution.id));
    });
    this.executions.events.on('executionFinished', ({ executionId }) => {
      void this.recordFinished(executionId).catch((err) => this.failed(err, executionId));
    });
  }

  private async recordFinished(executionId: string): Promise<void> {
    await this.audit.record(finishedEvent(await this.executions.get(executionId)));
  }

  private failed(err: unknown, executionId: string): void {
    this.logger.error({ err, executionId }, 'could not record an execution in the audit log');
  }
}

export function startedEvent(execution: Execution) {
  return {
    actor: actorOfTrigger(execution.trigger),
    action: 'execution.started',
    target: `execution:${execution.id}`,
    at: execution.createdAt,
    details: {
      runbook: execution.runbookId,
      runbookVersion: execution.runbookHash,
      params: execution.params,
      targets: execution.targets,
      trigger: execution.trigger,
    },
  };
}

export function finishedEvent(execution: Execution) {
  return {
    actor: actorOfTrigger(execution.trigger),
    action: 'execution.finished',
    target: `execution:${execution.id}`,
    details: {
      runbook: execution.runbookId,
      runbookVersion: execution.runbookHash,
      status: execution.status,
      ...(execution.reason ? { reason: execution.reason } : {}),
      ...(execution.startedAt && execution.finishedAt
        ? { durationMs: execution.finishedAt.getTime() - execution.startedAt.getTime() }
        : {}),
    },
  };
}

export function actorOfTrigger(trigger: Trigger): AuditActor {
  switch (trigger.type) {
    case 'user':
      return { type: 'user', name: trigger.user };
    case 'token':
      return { type: 'token', name: trigger.user };
    case 'schedule':
      return { type: 'schedule', name: trigger.job };
    case 'webhook':
      return { type: 'webhook', name: trigger.hook };
    case 'scaling':
      return { type: 'system', name: `pool:${trigger.pool}` };
  }
}
