/** `?status=` of `GET /api/v1/notifiers/{id}/deliveries`: one of the delivery statuses, or absent. */
import { BadRequestException } from '@nestjs/common';
import type { DeliveryStatus } from '../notification.entity';

const STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'dead'];

export function parseDeliveryStatus(status: string | undefined): DeliveryStatus | undefined {
  if (status === undefined || status === '') return undefined;
  if ((STATUSES as readonly string[]).includes(status)) return status as DeliveryStatus;
  throw new BadRequestException({
    message: `status: must be one of ${STATUSES.join(', ')} (got "${status}")`,
    details: [{ field: 'status' }],
  });
}
