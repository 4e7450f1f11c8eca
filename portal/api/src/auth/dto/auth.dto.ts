import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDate, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { ROLES, type Role } from '../permissions';

export class LoginDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(200) username!: string;
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(1000) password!: string;
}

export class RefreshDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(200) refreshToken!: string;
}

export class RoleGrantDto {
  @ApiProperty({ enum: ROLES }) @IsIn(ROLES) role!: Role;
  @ApiPropertyOptional({ description: 'limit the grant to one namespace (the part of a runbook id before the dot)' })
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9_-]*$/, { message: 'namespace must be lower-case letters, digits, "-" or "_"' })
  namespace?: string;
}

export class CreateApiTokenDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(100) name!: string;
  @ApiPropertyOptional({ type: String, format: 'date-time' }) @IsOptional() @Type(() => Date) @IsDate() expiresAt?: Date;
  @ApiPropertyOptional({ type: [RoleGrantDto], description: 'your roles or fewer; default: act with your roles' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => RoleGrantDto)
  roles?: RoleGrantDto[];
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$/;

export class CreateUserDto {
  @ApiProperty() @Matches(USERNAME, { message: 'username must be letters, digits, ".", "_", "@" or "-" (at most 100)' }) username!: string;
  @ApiProperty() @IsString() @MinLength(12, { message: 'password must be at least 12 characters' }) @MaxLength(1000) password!: string;
  @ApiProperty({ type: [RoleGrantDto] })
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => RoleGrantDto)
  roles!: RoleGrantDto[];
}

export class UpdateUserDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'password must be at least 12 characters' })
  @MaxLength(1000)
  password?: string;
  @ApiPropertyOptional({ type: [RoleGrantDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => RoleGrantDto)
  roles?: RoleGrantDto[];
}
