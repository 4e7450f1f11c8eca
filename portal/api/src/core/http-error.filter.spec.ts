import { ArgumentsHost, BadRequestException, Logger, NotFoundException } from '@nestjs/common';
import { clientErrorAsHttpException, HttpErrorFilter, type ApiError } from './http-error.filter';

/** What the filter answers to `exception`, through a response stub. */
function answer(exception: unknown, redact?: (text: string) => string): ApiError {
  let sent: ApiError | undefined;
  const response = {
    headersSent: false,
    status(code: number) {
      return {
        json(body: ApiError) {
          sent = { ...body, statusCode: code };
        },
      };
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
  new HttpErrorFilter(redact).catch(exception, host);
  return sent!;
}

/** An error as body-parser and raw-body raise them (http-errors: status, expose, type). */
const parserError = (status: number, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { status, statusCode: status, expose: status < 500, ...extra });

describe('the API error shape', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  it('keeps the status, message and details of an HTTP exception', () => {
    expect(answer(new NotFoundException('no runbook web.restart'))).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'no runbook web.restart',
    });
    expect(answer(new BadRequestException(['params.reason is required', 'targets must be an object']))).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'params.reason is required; targets must be an object',
      details: ['params.reason is required', 'targets must be an object'],
    });
  });

  it('answers a body over the limit 413, naming the limit', () => {
    const tooLarge = parserError(413, 'request entity too large', { type: 'entity.too.large', limit: 102400, length: 150000 });
    expect(answer(tooLarge)).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'request body is larger than 100kb, the limit for this route',
      details: { limitBytes: 102400, lengthBytes: 150000 },
    });
    expect(answer(parserError(413, 'too large', { type: 'entity.too.large', limit: 5 * 1024 * 1024 })).message).toContain('5mb');
  });

  it('answers malformed JSON 400 with the position, without quoting the body', () => {
    const body = '{"password": "hunter2",}';
    const malformed = parserError(400, `Unexpected token '}', "${body}" is not valid JSON`, { type: 'entity.parse.failed', body });
    const error = answer(malformed);
    expect(error).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'malformed JSON at position 23 (line 1, column 24): expected a property name in double quotes',
      details: { position: 23, line: 1, column: 24 },
    });
    expect(JSON.stringify(error)).not.toContain('hunter2');
  });

  it('keeps the meaning of the other client errors raised before a handler runs', () => {
    expect(answer(parserError(415, 'unsupported charset "LATIN1"', { type: 'charset.unsupported' }))).toEqual({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'unsupported charset "LATIN1"',
    });
    expect(answer(parserError(400, 'request aborted', { type: 'request.aborted' }))).toMatchObject({
      statusCode: 400,
      message: 'request aborted',
    });
    expect(answer(parserError(400, 'incorrect header check'))).toMatchObject({ statusCode: 400 });
  });

  it('answers 500 without internals to anything else, including server faults of the http-errors kind', () => {
    const internal = { statusCode: 500, error: 'Internal Server Error', message: 'internal error (logged on the portal)' };
    expect(answer(new TypeError("Cannot read properties of undefined (reading 'id')"))).toEqual(internal);
    expect(answer(parserError(500, 'stream is not readable', { type: 'stream.not.readable' }))).toEqual(internal);
    expect(answer({ status: 404 })).toEqual(internal);
    expect(answer(undefined)).toEqual(internal);
  });

  it('redacts secret values from the message and details', () => {
    const error = answer(new BadRequestException({ message: 'token s3cr3t refused', details: [{ value: 's3cr3t' }] }), (t) =>
      t.replaceAll('s3cr3t', '***'),
    );
    expect(error).toEqual({ statusCode: 400, error: 'Bad Request', message: 'token *** refused', details: [{ value: '***' }] });
  });

  it('leaves HTTP exceptions alone when translating client errors', () => {
    expect(clientErrorAsHttpException(new NotFoundException())).toBeUndefined();
    expect(clientErrorAsHttpException(new Error('plain'))).toBeUndefined();
  });
});
