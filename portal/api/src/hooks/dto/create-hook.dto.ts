import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class CreateHookDto {
  @ApiProperty({ example: 'alertmanager-prod' })
  @IsString()
  @MaxLength(64)
  @Matches(/^[a-z0-9][a-z0-9_-]*$/, { message: 'name must be lower-case letters, digits, "-" or "_", e.g. alertmanager-prod' })
  name!: string;

  @ApiProperty({ enum: ['alertmanager', 'generic'] })
  @IsIn(['alertmanager', 'generic'], { message: 'type must be alertmanager or generic' })
  type!: 'alertmanager' | 'generic';

  /** Generic hooks: where the alerts are in the posted JSON, e.g. `$.alerts` (the default) or `data.items`. */
  @ApiPropertyOptional({ example: '$.alerts' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  alertsPath?: string;
}
