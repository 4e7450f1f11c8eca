import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { EXECUTION_STATUSES, ExecutionStatus } from '../state-machine';

export class ListExecutionsDto {
  @ApiPropertyOptional() @IsOptional() @IsString() runbook?: string;
  /** Executions started by this job: its fires and its runs now. */
  @ApiPropertyOptional() @IsOptional() @IsString() job?: string;
  @ApiPropertyOptional({ enum: EXECUTION_STATUSES }) @IsOptional() @IsIn(EXECUTION_STATUSES) status?: ExecutionStatus;
  @ApiPropertyOptional({ default: 50 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit = 50;
}
