import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength, NotContains } from 'class-validator';
import { MIN_SECRET_LENGTH } from '@baton/shared';

export class PutSecretDto {
  /** Never echoed back; shorter values are refused because masking them would make logs unreadable. */
  @ApiProperty({ minLength: MIN_SECRET_LENGTH, maxLength: 65536, writeOnly: true })
  @IsString()
  @MinLength(MIN_SECRET_LENGTH, { message: `value must be at least ${MIN_SECRET_LENGTH} characters long` })
  @MaxLength(65536, { message: 'value must be at most 65536 characters long' })
  @NotContains('\0', { message: 'value must not contain NUL characters (it becomes an environment variable)' })
  value!: string;
}
