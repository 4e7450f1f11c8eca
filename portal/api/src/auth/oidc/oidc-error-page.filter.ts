/**
 * The single sign-on routes are opened by a browser, not by a script: a refusal there is shown as a small HTML page
 * (same status code, same message) when the browser asks for HTML, and as the usual JSON error otherwise.
 */
import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { HttpErrorFilter } from '../../core/http-error.filter';

@Catch()
export class OidcErrorPageFilter implements ExceptionFilter {
  private readonly jsonErrors = new HttpErrorFilter();

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<Request>();
    const response = host.switchToHttp().getResponse<Response>();
    const wantsHtml = request.accepts(['json', 'html']) === 'html';
    if (!(exception instanceof HttpException) || !wantsHtml || response.headersSent) {
      this.jsonErrors.catch(exception, host);
      return;
    }
    response.status(exception.getStatus()).type('html').send(errorPage(exception.getStatus(), exception.message));
  }
}

function errorPage(status: number, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Baton: sign-in failed</title></head>
<body><h1>Sign-in failed (${status})</h1><p>${escapeHtml(message)}</p><p><a href="/">Back to Baton</a></p></body></html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
