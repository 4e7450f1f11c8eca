import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class LoginDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(200) username!: string;
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(1000) password!: string;
}
