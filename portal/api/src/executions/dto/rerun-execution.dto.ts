import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsObject, IsOptional } from 'class-validator';

/** `POST /api/v1/executions/{id}/rerun`. */
export class RerunExecutionDto {
  /** Only the nodes that did not succeed (Rundeck's "retry failed nodes"); default: every target again. */
  @ApiPropertyOptional({ default: false }) @IsOptional() @IsBoolean() onlyFailedNodes?: boolean;
  /**
   * Parameters given again, over the stored ones: secret values are never stored, so a run that had any needs them
   * here (`null` leaves one to the runbook's stored secret). Checked against the runbook's specs when it starts.
   */
  @ApiPropertyOptional() @IsOptional() @IsObject() params?: Record<string, unknown>;
}
