import { apiError } from './api';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('API errors', () => {
  it('passes on the message of a 400 or 404 with exit code 2', async () => {
    const error = await apiError(
      json(400, { statusCode: 400, error: 'Bad Request', message: 'params.who: must match ^[a-z]+$' }),
      undefined,
    );
    expect(error).toMatchObject({ exitCode: 2, message: 'params.who: must match ^[a-z]+$ (400)' });
    expect(await apiError(json(400, { message: ['a: bad', 'b: worse'] }), undefined)).toMatchObject({ message: 'a: bad; b: worse (400)' });
  });

  it('says the portal is busy on a 429, with when to try again, and exit code 6', async () => {
    const error = await apiError(json(429, { statusCode: 429, message: 'the queue is full' }, { 'retry-after': '12' }), undefined);
    expect(error).toMatchObject({
      exitCode: 6,
      message: 'the portal is busy (429 Too Many Requests): the queue is full; try again in 12 s',
    });
    const advised = await apiError(json(429, { message: '3 executions are waiting to start: retry in 4 s' }), undefined);
    expect(advised.message).toBe('the portal is busy (429 Too Many Requests): 3 executions are waiting to start: retry in 4 s');
  });

  it('tells a token user and a session user apart on a 401, and maps 403, 409 and 5xx', async () => {
    const token = { kind: 'token' as const, url: 'http://x', token: 'bt_x' };
    expect(await apiError(json(401, { message: 'Unauthorized' }), token)).toMatchObject({
      exitCode: 7,
      message: expect.stringContaining('refused BATON_TOKEN'),
    });
    expect(await apiError(json(403, { message: 'you may not run runbook "x"' }), token)).toMatchObject({
      exitCode: 7,
      message: 'not allowed (403): you may not run runbook "x"',
    });
    expect(await apiError(json(409, { message: 'a run is going' }), token)).toMatchObject({ exitCode: 6 });
    expect(await apiError(new Response('upstream down', { status: 503 }), token)).toMatchObject({
      exitCode: 8,
      message: 'the portal failed (503): upstream down',
    });
  });
});
