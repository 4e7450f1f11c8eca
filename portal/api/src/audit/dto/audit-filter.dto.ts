import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** The filters shared by the list and the export. */
export class AuditFilterDto {
  @ApiPropertyOptional({ description: 'exact actor name (user, job, hook)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;

  @ApiPropertyOptional({ description: 'exact action, or a prefix ending in * (execution.*)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[^*]*\*?$/, { message: 'action may hold one * and only at the end' })
  action?: string;

  @ApiPropertyOptional({ description: 'exact target, e.g. runbook:demo.hello' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  target?: string;

  @ApiPropertyOptional({ description: 'ISO 8601 time, inclusive' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'ISO 8601 time, exclusive' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class ListAuditDto extends AuditFilterDto {
  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit = 100;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  cursor?: string;

  @ApiPropertyOptional({ enum: ['desc', 'asc'], default: 'desc' })
  @IsOptional()
  @IsIn(['desc', 'asc'])
  order: 'desc' | 'asc' = 'desc';
}

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;

export class ExportAuditDto extends AuditFilterDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'jsonl' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format: (typeof EXPORT_FORMATS)[number] = 'jsonl';
}
