import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class DecideExecutionDto {
  @ApiPropertyOptional({ maxLength: 1000, description: 'Why; required to reject.' })
  @IsOptional()
  @IsString({ message: 'comment must be a string' })
  @MaxLength(1000, { message: 'comment must be at most 1000 characters' })
  comment?: string;
}
