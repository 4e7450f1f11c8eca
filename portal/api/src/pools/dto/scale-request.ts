/** The body of `POST /api/v1/pools/{id}/scale` and of a rejection, checked with zod at the edge. */
import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';

export const scaleRequestSchema = z
  .strictObject({
    by: z.number().int().min(-1000).max(1000).optional(),
    to: z.number().int().min(0).max(10_000).optional(),
    reason: z.string().trim().min(1, 'say why, e.g. "campaign tomorrow"').max(500),
    /** Admins only: act during the pool's cooldown. */
    force: z.boolean().optional(),
  })
  .refine((r) => (r.by === undefined) !== (r.to === undefined), { message: 'give exactly one of "by" or "to"', path: ['by'] })
  .refine((r) => r.by !== 0, { message: 'must not be 0', path: ['by'] });
export type ScaleRequestBody = z.infer<typeof scaleRequestSchema>;

export const rejectRequestSchema = z.strictObject({ reason: z.string().trim().max(500).optional() });

/** Parses a body or answers 400 naming each bad field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message }));
  throw new BadRequestException({ message: details.map((d) => `${d.field}: ${d.message}`).join('; '), details });
}
