import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsObject, IsOptional, IsString, Min, ValidateNested, ArrayNotEmpty, IsArray } from 'class-validator';

export class TargetsDto {
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayNotEmpty() @IsString({ each: true }) names?: string[];
  @ApiPropertyOptional() @IsOptional() @IsObject() labels?: Record<string, string>;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() local?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) concurrency?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) maxFailures?: number;
}

export class StartExecutionDto {
  /** Checked against the runbook's parameter specs by the dispatch service (it knows the runbook). */
  @ApiPropertyOptional() @IsOptional() @IsObject() params?: Record<string, unknown>;
  @ApiPropertyOptional({ type: TargetsDto }) @IsOptional() @ValidateNested() @Type(() => TargetsDto) targets?: TargetsDto;
}
