import { actorOf, describeRequest, isAudited, targetOf, type AuditedRequest } from './http-audit';

const request = (overrides: Partial<AuditedRequest> = {}): AuditedRequest => ({
  method: 'POST',
  path: '/api/v1/runbooks/web.restart/executions',
  route: { path: '/api/v1/runbooks/:id/executions' },
  params: { id: 'web.restart' },
  ip: '10.1.2.3',
  user: { username: 'alice', roles: [{ role: 'operator' }] },
  ...overrides,
});

describe('which requests are audited', () => {
  it('records every change under /api whatever its outcome', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(isAudited({ method, path: '/api/v1/x' }, 500)).toBe(true);
  });

  it('records reads only when refused', () => {
    expect(isAudited({ method: 'GET', path: '/api/v1/audit' }, 200)).toBe(false);
    expect(isAudited({ method: 'GET', path: '/api/v1/audit' }, 403)).toBe(true);
  });

  it('ignores paths outside the API', () => {
    expect(isAudited({ method: 'POST', path: '/apiary' }, 200)).toBe(false);
    expect(isAudited({ method: 'POST', path: '/health/live' }, 403)).toBe(false);
  });
});

describe('describing a request', () => {
  it('names the actor: a user, a token, or the user an anonymous login tried to be', () => {
    expect(actorOf(request())).toEqual({ type: 'user', name: 'alice' });
    expect(actorOf(request({ user: { username: 'ci', roles: [], tokenId: 't1' } }))).toEqual({ type: 'token', name: 'ci' });
    expect(actorOf(request({ user: undefined, body: { username: 'bob', password: 'x' } }))).toEqual({ type: 'anonymous', name: 'bob' });
    expect(actorOf(request({ user: undefined }))).toEqual({ type: 'anonymous', name: 'anonymous' });
  });

  it('takes the target from the last route parameter and the segment before it', () => {
    expect(targetOf(request())).toBe('runbook:web.restart');
    expect(targetOf(request({ route: { path: '/api/v1/executions/:id/cancel' }, params: { id: 'e1' } }))).toBe('execution:e1');
    expect(targetOf(request({ route: { path: '/api/v1/users' }, params: {} }))).toBeUndefined();
    const meta = { action: 'user.create', target: (r: { body: unknown }) => `user:${(r.body as { username: string }).username}` };
    expect(targetOf(request({ route: { path: '/api/v1/users' }, params: {}, body: { username: 'carol' } }), meta)).toBe('user:carol');
  });

  it('names the action after the route, or the decorator', () => {
    expect(describeRequest(request(), { status: 201 }).action).toBe('POST /api/v1/runbooks/:id/executions');
    expect(describeRequest(request(), { status: 201 }, { action: 'execution.request' }).action).toBe('execution.request');
  });

  it('masks sensitive body keys at any depth and keeps the rest', () => {
    const body = { username: 'bob', password: 'hunter2', nested: { Access_Token: 'abc', list: [{ secret: 's' }] }, value: 'v', note: 'ok' };
    const event = describeRequest(request({ body }), { status: 200 });
    expect(event.details!.body).toEqual({
      username: 'bob',
      password: '***',
      nested: { Access_Token: '***', list: [{ secret: '***' }] },
      value: '***',
      note: 'ok',
    });
    expect(body.password).toBe('hunter2');
  });

  it('leaves the body out when the decorator says so', () => {
    expect(
      describeRequest(request({ body: { big: 'x' } }), { status: 200 }, { action: 'a', recordBody: false }).details,
    ).not.toHaveProperty('body');
  });

  it('records a refusal as access.denied with the attempted action', () => {
    const event = describeRequest(request({ method: 'GET', route: { path: '/api/v1/audit' }, params: {} }), { status: 403 });
    expect(event).toMatchObject({
      action: 'access.denied',
      actor: { type: 'user', name: 'alice' },
      details: { status: 403, attempted: 'GET /api/v1/audit' },
      source: '10.1.2.3',
    });
  });

  it('keeps the token id for requests made with an API token', () => {
    const event = describeRequest(request({ user: { username: 'ci', roles: [], tokenId: 'tok-9' } }), { status: 201 });
    expect(event.details).toMatchObject({ tokenId: 'tok-9' });
  });
});
