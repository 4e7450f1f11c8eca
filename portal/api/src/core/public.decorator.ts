/** Marks a route that needs no signed-in user (login, health, metrics). Every other route is denied by default. */
import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'baton:isPublic';
export const Public = () => SetMetadata(IS_PUBLIC, true);
