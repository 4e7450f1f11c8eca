import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export class CreateEnrollmentTokenDto {
  @ApiProperty({ example: '1h', description: 'How long the token may be used: a duration such as 30m, 1h or 7d (at most 30d).' })
  @IsString()
  @Matches(/^\d+(ms|s|m|h|d)$/, { message: 'expiresIn must be a duration such as 30m, 1h or 7d' })
  expiresIn!: string;

  @ApiProperty({ example: 50, minimum: 1, maximum: 10000, description: 'How many agents may enroll with it.' })
  @IsInt({ message: 'maxUses must be an integer' })
  @Min(1, { message: 'maxUses must be at least 1' })
  @Max(10000, { message: 'maxUses must be at most 10000' })
  maxUses!: number;

  @ApiProperty({ description: 'Accept agents at once (SaltStack autosign), within the uses, expiry and labels of the token.' })
  @IsBoolean({ message: 'autoAccept must be true or false' })
  autoAccept!: boolean;

  @ApiPropertyOptional({
    example: { role: 'web' },
    description: 'Labels every agent enrolled with this token gets; it cannot claim others for these keys.',
  })
  @IsOptional()
  @IsObject({ message: 'labels must be an object of strings' })
  labels?: Record<string, string>;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;
}
