/** The auditor's API: list with filters and cursor paging, streamed export (CSV, JSONL), chain verification. */
import { BadRequestException, Controller, Get, Logger, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequirePermission } from '../auth/permissions';
import type { AuditVerification } from './audit-event';
import { AuditFilter, CSV_HEADER, CSV_LINE_SQL, decodeCursor, JSONL_LINE_SQL } from './audit-query';
import { AuditPage, AuditService } from './audit.service';
import { AuditFilterDto, ExportAuditDto, ListAuditDto } from './dto/audit-filter.dto';

@ApiTags('audit')
@ApiBearerAuth()
@RequirePermission('audit:read')
@Controller('api/v1/audit')
export class AuditController {
  private readonly logger = new Logger(AuditController.name);

  constructor(private readonly audit: AuditService) {}

  /** Newest first unless `order=asc`; follow `nextCursor` for the next page. */
  @Get()
  list(@Query() query: ListAuditDto): Promise<AuditPage> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && after === undefined) throw new BadRequestException('cursor: not a cursor this API handed out');
    return this.audit.list(toFilter(query), { limit: query.limit, after, order: query.order });
  }

  @Get('verify')
  verify(): Promise<AuditVerification> {
    return this.audit.verify();
  }

  /** Oldest first, streamed in batches with backpressure: a slow client slows the reads, memory stays flat. */
  @Get('export')
  @ApiProduces('application/x-ndjson', 'text/csv')
  async export(@Query() query: ExportAuditDto, @Res() res: Response): Promise<void> {
    const isCsv = query.format === 'csv';
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    res.writeHead(200, {
      'Content-Type': isCsv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="baton-audit-${stamp}.${query.format}"`,
      'Cache-Control': 'no-store',
    });
    let isClosed = false;
    res.on('close', () => (isClosed = true));
    try {
      if (isCsv) res.write(CSV_HEADER);
      for await (const chunk of this.audit.exportChunks(toFilter(query), isCsv ? CSV_LINE_SQL : JSONL_LINE_SQL)) {
        if (isClosed) return;
        if (!res.write(chunk)) await drainedOrClosed(res);
      }
      res.end();
    } catch (err) {
      // The status line is long gone: cut the transfer so the client sees an incomplete file, not a short one.
      this.logger.error({ err }, 'audit export failed');
      res.destroy();
    }
  }
}

function toFilter(query: AuditFilterDto): AuditFilter {
  return {
    actor: query.actor,
    action: query.action,
    target: query.target,
    from: query.from ? new Date(query.from) : undefined,
    to: query.to ? new Date(query.to) : undefined,
  };
}

/** Waits until the client has taken what was written, or has gone away (then 'drain' never comes). */
function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
