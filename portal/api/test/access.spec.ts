/**
 * Access control end to end: every route declares a permission (or is public), anonymous callers get 401, every
 * role against every route matches the table in docs/security.md, and the token, session and throttling rules.
 */
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { join } from 'node:path';
import { Client } from 'pg';
import { IS_PUBLIC } from '../src/core/public.decorator';
import { REQUIRED_PERMISSION } from '../src/auth/permissions';
import { createTestEnv, destroyTestEnv, Portal, sleep, startPortal, type TestEnv } from './harness';

jest.setTimeout(120_000);

interface Route {
  method: string;
  path: string;
  isPublic: boolean;
  permission?: string;
}

/** Every route the application registered, read from the controllers' metadata as Nest does. */
function registeredRoutes(portal: Portal): Route[] {
  const routes: Route[] = [];
  for (const module of portal.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
      if (!controller) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const sub = String(Reflect.getMetadata(PATH_METADATA, handler));
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
        const path =
          '/' +
          [base, sub]
            .map((p) => p.replace(/^\/|\/$/g, ''))
            .filter(Boolean)
            .join('/');
        const meta = (key: string) => Reflect.getMetadata(key, handler) ?? Reflect.getMetadata(key, controller);
        routes.push({ method, path, isPublic: meta(IS_PUBLIC) === true, permission: meta(REQUIRED_PERMISSION) });
      }
    }
  }
  return routes;
}

const PUBLIC_ROUTES = [
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/refresh',
  'POST /api/v1/auth/logout',
  'GET /health/live',
  'GET /health/ready',
  'GET /metrics',
];
/**
 * Public by design in later parts: sign-on callbacks, webhooks and agents (enrollment, credentials) authenticate by
 * other means; the install script and the agent binary hold nothing secret.
 */
const isPublicByDesign = (key: string) =>
  PUBLIC_ROUTES.includes(key) ||
  /\/auth\/(oidc|providers)/.test(key) ||
  /\/hooks\/(alertmanager|generic)\//.test(key) ||
  ['POST /api/v1/agents/enroll', 'GET /api/v1/agents/:name/credentials'].includes(key) ||
  /^GET \/install\//.test(key);

type Who = 'viewer' | 'operator' | 'editor' | 'auditor' | 'admin' | 'openOperator';
const EVERYONE: Who[] = ['viewer', 'operator', 'editor', 'auditor', 'admin', 'openOperator'];
const GRANTS: Record<Exclude<Who, 'admin'>, { role: string; namespace?: string }[]> = {
  viewer: [{ role: 'viewer' }],
  operator: [{ role: 'operator' }],
  editor: [{ role: 'editor' }],
  auditor: [{ role: 'auditor' }],
  openOperator: [{ role: 'operator', namespace: 'open' }],
};
const PASSWORD = 'a-long-test-password';
const matrixPool = (id: string) => ({
  id,
  selector: { labels: { nothing: 'matrix' } },
  min: 0,
  max: 5,
  scaleOut: { runbook: 'open.noop-provider' },
  scaleIn: { runbook: 'open.noop-provider' },
});
/** A disabled webhook notifier: declaring it needs no receiver, and it never sends. */
const matrixNotifier = (id: string) => ({ id, type: 'webhook', url: 'https://hooks.example/matrix', enabled: false });
const alertRule = (id: string) => ({ id, match: { alertname: 'Matrix' }, runbook: 'open.hello', cooldown: '1m', maxPerHour: 1 });

describe('access control', () => {
  let env: TestEnv;
  let admin: Portal;
  const as = {} as Record<Who, Portal>;

  beforeAll(async () => {
    env = await createTestEnv(join(__dirname, 'runbooks-access'));
    admin = await startPortal(env);
    as.admin = admin;
    for (const [who, roles] of Object.entries(GRANTS)) {
      const created = await admin.request('POST', '/api/v1/users', { username: who, password: PASSWORD, roles });
      expect(created.status).toBe(201);
      as[who as Who] = new Portal(admin.app, admin.url);
      await as[who as Who].login(who, PASSWORD);
    }
  });

  afterAll(async () => {
    await admin?.close();
    if (env) await destroyTestEnv(env);
  });

  it('declares a permission on every route, or marks it public', () => {
    const routes = registeredRoutes(admin);
    expect(routes.length).toBeGreaterThan(15);
    const undeclared = routes.filter((r) => !r.isPublic && !r.permission).map((r) => `${r.method} ${r.path}`);
    expect(undeclared).toEqual([]);
    const unexpectedlyPublic = routes.filter((r) => r.isPublic && !isPublicByDesign(`${r.method} ${r.path}`));
    expect(unexpectedlyPublic).toEqual([]);
  });

  it('answers 401 to anonymous calls on every route except login, health, metrics and webhooks', async () => {
    const failures: string[] = [];
    for (const route of registeredRoutes(admin)) {
      const key = `${route.method} ${route.path}`;
      if (isPublicByDesign(key)) continue;
      const path = route.path.replace(/:(\w+)/g, (_, name: string) => (name === 'id' ? '00000000-0000-4000-8000-000000000000' : 'x'));
      const res = await fetch(`${admin.url}${path}`, { method: route.method });
      if (res.status !== 401) failures.push(`${key} -> ${res.status}`);
    }
    expect(failures).toEqual([]);
  });

  describe('role-by-route matrix', () => {
    /** What each caller gets: 'ok' is any 2xx. Rows are keyed by route, and every registered route must have one. */
    type Expect = 'ok' | 401 | 403 | 404 | 409;
    interface Row {
      route: string;
      call(p: Portal, who: Who): Promise<{ status: number }>;
      expect: Record<Who, Expect>;
    }
    const all = (e: Expect): Record<Who, Expect> => Object.fromEntries(EVERYONE.map((w) => [w, e])) as Record<Who, Expect>;
    const only = (allowed: Who[], otherwise: Expect = 403): Record<Who, Expect> =>
      Object.fromEntries(EVERYONE.map((w) => [w, allowed.includes(w) ? 'ok' : otherwise])) as Record<Who, Expect>;
    /** An SSH node on a closed port: declaring it needs no server. */
    const sshNode = (name: string) => ({ name, host: '127.0.0.1', port: 1, user: 'root', keySecret: 'ssh-key', hostKey: 'tofu' });
    const startOpen = () => admin.run('open.hello', { params: { seconds_to_wait: 5 } });

    const rows: Row[] = [
      { route: 'GET /api/v1/runbooks', call: (p) => p.request('GET', '/api/v1/runbooks'), expect: all('ok') },
      { route: 'GET /api/v1/runbooks/:id', call: (p) => p.request('GET', '/api/v1/runbooks/open.hello'), expect: all('ok') },
      {
        route: 'GET /api/v1/runbooks/:id (access.view: [editor])',
        call: (p) => p.request('GET', '/api/v1/runbooks/ops.restricted'),
        expect: { viewer: 404, operator: 404, editor: 'ok', auditor: 'ok', admin: 'ok', openOperator: 404 },
      },
      { route: 'GET /api/v1/resources/errors', call: (p) => p.request('GET', '/api/v1/resources/errors'), expect: all('ok') },
      {
        route: 'POST /api/v1/runbooks/:id/executions',
        call: (p) => p.request('POST', '/api/v1/runbooks/open.hello/executions', {}),
        expect: only(['operator', 'editor', 'admin', 'openOperator']),
      },
      {
        route: 'POST /api/v1/runbooks/:id/executions (access.run: [])',
        call: (p) => p.request('POST', '/api/v1/runbooks/open.admin-only/executions', {}),
        expect: only(['admin']),
      },
      {
        route: 'POST /api/v1/runbooks/:id/executions (access.view/run: [editor])',
        call: (p) => p.request('POST', '/api/v1/runbooks/ops.restricted/executions', {}),
        // Viewers and auditors may run nothing at all: refused before the runbook is even looked up.
        expect: { viewer: 403, operator: 404, editor: 'ok', auditor: 403, admin: 'ok', openOperator: 404 },
      },
      { route: 'GET /api/v1/executions', call: (p) => p.request('GET', '/api/v1/executions'), expect: all('ok') },
      {
        route: 'GET /api/v1/executions/:id',
        call: async (p) => p.request('GET', `/api/v1/executions/${await admin.run('ops.restricted', {})}`),
        expect: { viewer: 404, operator: 404, editor: 'ok', auditor: 'ok', admin: 'ok', openOperator: 404 },
      },
      {
        route: 'GET /api/v1/executions/:id/logs',
        call: async (p) => p.request('GET', `/api/v1/executions/${await admin.run('open.admin-only', {})}/logs`),
        expect: only(['viewer', 'operator', 'editor', 'auditor', 'admin', 'openOperator']),
      },
      {
        route: 'POST /api/v1/executions/:id/rerun',
        call: async (p) => p.request('POST', `/api/v1/executions/${await admin.run('open.hello', {})}/rerun`, {}),
        expect: only(['operator', 'editor', 'admin', 'openOperator']),
      },
      {
        route: 'POST /api/v1/executions/:id/rerun (access.view/run: [editor])',
        call: async (p) => p.request('POST', `/api/v1/executions/${await admin.run('ops.restricted', {})}/rerun`, {}),
        // Who may not see the runbook does not see its executions either: 404; viewers and auditors run nothing: 403.
        expect: { viewer: 403, operator: 404, editor: 'ok', auditor: 403, admin: 'ok', openOperator: 404 },
      },
      {
        route: "POST /api/v1/executions/:id/cancel (someone else's)",
        call: async (p) => p.request('POST', `/api/v1/executions/${await startOpen()}/cancel`),
        expect: only(['admin']),
      },
      {
        route: 'POST /api/v1/executions/:id/cancel (own)',
        call: async (p) => {
          const started = await p.request('POST', '/api/v1/runbooks/open.hello/executions', { params: { seconds_to_wait: 5 } });
          const id = started.status === 201 ? started.body.id : await startOpen();
          return p.request('POST', `/api/v1/executions/${id}/cancel`);
        },
        expect: only(['operator', 'editor', 'admin', 'openOperator']),
      },
      { route: 'GET /api/v1/jobs', call: (p) => p.request('GET', '/api/v1/jobs'), expect: all('ok') },
      { route: 'GET /api/v1/jobs/:id', call: (p) => p.request('GET', '/api/v1/jobs/open.nightly'), expect: all('ok') },
      {
        route: 'GET /api/v1/jobs/:id (runbook with access.view: [editor])',
        call: (p) => p.request('GET', '/api/v1/jobs/ops.restricted-nightly'),
        expect: { viewer: 404, operator: 404, editor: 'ok', auditor: 'ok', admin: 'ok', openOperator: 404 },
      },
      {
        route: 'POST /api/v1/jobs',
        call: (p, who) =>
          p.request('POST', '/api/v1/jobs', {
            id: `open.job-${who.toLowerCase()}`,
            runbook: 'open.hello',
            schedule: { cron: '0 0 1 1 *' },
          }),
        expect: only(['editor', 'admin']),
      },
      {
        route: 'PATCH /api/v1/jobs/:id',
        call: async (p, who) => {
          const id = `open.patch-${who.toLowerCase()}`;
          await admin.request('POST', '/api/v1/jobs', { id, runbook: 'open.hello', schedule: { cron: '0 0 1 1 *' } });
          return p.request('PATCH', `/api/v1/jobs/${id}`, { enabled: false });
        },
        expect: only(['editor', 'admin']),
      },
      {
        route: 'DELETE /api/v1/jobs/:id',
        call: async (p, who) => {
          const id = `open.doomed-${who.toLowerCase()}`;
          await admin.request('POST', '/api/v1/jobs', { id, runbook: 'open.hello', schedule: { cron: '0 0 1 1 *' } });
          return p.request('DELETE', `/api/v1/jobs/${id}`);
        },
        expect: only(['editor', 'admin']),
      },
      {
        route: 'POST /api/v1/jobs/:id/run',
        call: (p) => p.request('POST', '/api/v1/jobs/open.nightly/run'),
        expect: only(['operator', 'editor', 'admin', 'openOperator']),
      },
      {
        route: 'POST /api/v1/jobs/:id/run (runbook with access.view/run: [editor])',
        call: (p) => p.request('POST', '/api/v1/jobs/ops.restricted-nightly/run'),
        expect: { viewer: 403, operator: 404, editor: 'ok', auditor: 403, admin: 'ok', openOperator: 404 },
      },
      { route: 'GET /api/v1/nodes', call: (p) => p.request('GET', '/api/v1/nodes'), expect: all('ok') },
      { route: 'GET /api/v1/approvals', call: (p) => p.request('GET', '/api/v1/approvals'), expect: all('ok') },
      // The approval policy decides who may decide; an unknown execution is a 404 for every reader.
      ...(['approve', 'reject'] as const).map((decision) => ({
        route: `POST /api/v1/executions/:id/${decision}`,
        call: (p: Portal) => p.request('POST', `/api/v1/executions/00000000-0000-4000-8000-000000000000/${decision}`, { comment: 'x' }),
        expect: all(404),
      })),
      { route: 'GET /api/v1/agents', call: (p) => p.request('GET', '/api/v1/agents'), expect: only(['admin']) },
      // An unknown agent: admins get past the permission check to a 404.
      ...(['accept', 'reject', 'revoke'] as const).map((decision) => ({
        route: `POST /api/v1/agents/:name/${decision}`,
        call: (p: Portal) => p.request('POST', `/api/v1/agents/no-such-agent/${decision}`, {}),
        expect: { ...only(['admin']), admin: 404 } as Record<Who, Expect>,
      })),
      {
        route: 'DELETE /api/v1/agents/:name',
        call: (p) => p.request('DELETE', '/api/v1/agents/no-such-agent'),
        expect: { ...only(['admin']), admin: 404 },
      },
      { route: 'GET /api/v1/enrollment-tokens', call: (p) => p.request('GET', '/api/v1/enrollment-tokens'), expect: only(['admin']) },
      {
        route: 'POST /api/v1/enrollment-tokens',
        call: (p) => p.request('POST', '/api/v1/enrollment-tokens', { expiresIn: '1h', maxUses: 1, autoAccept: false }),
        expect: only(['admin']),
      },
      {
        route: 'DELETE /api/v1/enrollment-tokens/:id',
        call: (p) => p.request('DELETE', '/api/v1/enrollment-tokens/0000000000000000'),
        expect: { ...only(['admin']), admin: 404 },
      },
      {
        route: 'POST /api/v1/nodes',
        call: (p, who) => p.request('POST', '/api/v1/nodes', sshNode(`ssh-new-${who.toLowerCase()}`)),
        expect: only(['editor', 'admin']),
      },
      {
        route: 'PATCH /api/v1/nodes/:name',
        call: async (p, who) => {
          await admin.request('POST', '/api/v1/nodes', sshNode(`ssh-patch-${who.toLowerCase()}`));
          return p.request('PATCH', `/api/v1/nodes/ssh-patch-${who.toLowerCase()}`, { labels: { patched: 'yes' } });
        },
        expect: only(['editor', 'admin']),
      },
      {
        route: 'DELETE /api/v1/nodes/:name',
        call: async (p, who) => {
          await admin.request('POST', '/api/v1/nodes', sshNode(`ssh-doomed-${who.toLowerCase()}`));
          return p.request('DELETE', `/api/v1/nodes/ssh-doomed-${who.toLowerCase()}`);
        },
        expect: only(['editor', 'admin']),
      },
      { route: 'GET /api/v1/auth/me', call: (p) => p.request('GET', '/api/v1/auth/me'), expect: all('ok') },
      { route: 'POST /api/v1/auth/tokens', call: (p) => p.request('POST', '/api/v1/auth/tokens', { name: 'ci' }), expect: all('ok') },
      { route: 'GET /api/v1/auth/tokens', call: (p) => p.request('GET', '/api/v1/auth/tokens'), expect: all('ok') },
      {
        route: 'DELETE /api/v1/auth/tokens/:id',
        call: async (p) => {
          const own = await p.request('POST', '/api/v1/auth/tokens', { name: 'to-revoke' });
          return p.request('DELETE', `/api/v1/auth/tokens/${own.body.id}`);
        },
        expect: all('ok'),
      },
      {
        route: "DELETE /api/v1/auth/tokens/:id (someone else's)",
        call: async (p) => {
          const adminsToken = await admin.request('POST', '/api/v1/auth/tokens', { name: 'not-yours' });
          return p.request('DELETE', `/api/v1/auth/tokens/${adminsToken.body.id}`);
        },
        expect: only(['admin'], 404),
      },
      { route: 'GET /api/v1/users', call: (p) => p.request('GET', '/api/v1/users'), expect: only(['auditor', 'admin']) },
      { route: 'GET /api/v1/users/:name', call: (p) => p.request('GET', '/api/v1/users/viewer'), expect: only(['auditor', 'admin']) },
      {
        route: 'POST /api/v1/users',
        call: (p, who) => p.request('POST', '/api/v1/users', { username: `new-${who}`, password: PASSWORD, roles: [{ role: 'viewer' }] }),
        expect: only(['admin']),
      },
      {
        route: 'PATCH /api/v1/users/:name',
        call: (p) => p.request('PATCH', '/api/v1/users/viewer', { roles: [{ role: 'viewer' }] }),
        expect: only(['admin']),
      },
      {
        route: 'DELETE /api/v1/users/:name',
        call: async (p, who) => {
          await admin.request('POST', '/api/v1/users', { username: `doomed-${who}`, password: PASSWORD, roles: [] });
          return p.request('DELETE', `/api/v1/users/doomed-${who}`);
        },
        expect: only(['admin']),
      },
      { route: 'GET /api/v1/audit', call: (p) => p.request('GET', '/api/v1/audit?limit=5'), expect: only(['auditor', 'admin']) },
      { route: 'GET /api/v1/audit/verify', call: (p) => p.request('GET', '/api/v1/audit/verify'), expect: only(['auditor', 'admin']) },
      {
        route: 'GET /api/v1/audit/export',
        call: (p) => p.request('GET', '/api/v1/audit/export?format=jsonl&action=auth.login'),
        expect: only(['auditor', 'admin']),
      },
      { route: 'GET /api/v1/secrets', call: (p) => p.request('GET', '/api/v1/secrets'), expect: only(['auditor', 'admin']) },
      {
        route: 'PUT /api/v1/secrets/:name',
        call: (p, who) => p.request('PUT', `/api/v1/secrets/matrix-${who.toLowerCase()}`, { value: 'matrix-value' }),
        expect: only(['admin']),
      },
      {
        route: 'DELETE /api/v1/secrets/:name',
        call: async (p, who) => {
          await admin.request('PUT', `/api/v1/secrets/doomed-${who.toLowerCase()}`, { value: 'doomed-value' });
          return p.request('DELETE', `/api/v1/secrets/doomed-${who.toLowerCase()}`);
        },
        expect: only(['admin']),
      },
      {
        route: 'GET /api/v1/hooks',
        call: (p) => p.request('GET', '/api/v1/hooks'),
        expect: only(EVERYONE.filter((w) => w !== 'openOperator')),
      },
      {
        route: 'POST /api/v1/hooks',
        call: (p, who) => p.request('POST', '/api/v1/hooks', { name: `matrix-${who.toLowerCase()}`, type: 'alertmanager' }),
        expect: only(['admin']),
      },
      {
        route: 'DELETE /api/v1/hooks/:name',
        call: async (p, who) => {
          await admin.request('POST', '/api/v1/hooks', { name: `doomed-${who.toLowerCase()}`, type: 'generic' });
          return p.request('DELETE', `/api/v1/hooks/doomed-${who.toLowerCase()}`);
        },
        expect: only(['admin']),
      },
      {
        route: 'GET /api/v1/hooks/:name/deliveries',
        call: async (p) => {
          await admin.request('POST', '/api/v1/hooks', { name: 'matrix-deliveries', type: 'alertmanager' });
          return p.request('GET', '/api/v1/hooks/matrix-deliveries/deliveries');
        },
        expect: only(EVERYONE.filter((w) => w !== 'openOperator')),
      },
      // Notifiers are administration: their URLs, addresses and deliveries are for admins only.
      { route: 'GET /api/v1/notifiers', call: (p) => p.request('GET', '/api/v1/notifiers'), expect: only(['admin']) },
      {
        route: 'GET /api/v1/notifiers/:id',
        call: async (p) => {
          await admin.request('POST', '/api/v1/notifiers', matrixNotifier('matrix-read'));
          return p.request('GET', '/api/v1/notifiers/matrix-read');
        },
        expect: only(['admin']),
      },
      {
        route: 'POST /api/v1/notifiers',
        call: (p, who) => p.request('POST', '/api/v1/notifiers', matrixNotifier(`matrix-${who.toLowerCase()}`)),
        expect: only(['admin']),
      },
      {
        route: 'PATCH /api/v1/notifiers/:id',
        call: async (p) => {
          await admin.request('POST', '/api/v1/notifiers', matrixNotifier('matrix-patch'));
          return p.request('PATCH', '/api/v1/notifiers/matrix-patch', { enabled: false });
        },
        expect: only(['admin']),
      },
      {
        route: 'DELETE /api/v1/notifiers/:id',
        call: async (p, who) => {
          await admin.request('POST', '/api/v1/notifiers', matrixNotifier(`doomed-${who.toLowerCase()}`));
          return p.request('DELETE', `/api/v1/notifiers/doomed-${who.toLowerCase()}`);
        },
        expect: only(['admin']),
      },
      {
        route: 'GET /api/v1/notifiers/:id/deliveries',
        call: async (p) => {
          await admin.request('POST', '/api/v1/notifiers', matrixNotifier('matrix-deliveries'));
          return p.request('GET', '/api/v1/notifiers/matrix-deliveries/deliveries');
        },
        expect: only(['admin']),
      },
      {
        route: 'POST /api/v1/notifiers/:id/test',
        call: async (p) => {
          await admin.request('POST', '/api/v1/notifiers', matrixNotifier('matrix-test'));
          return p.request('POST', '/api/v1/notifiers/matrix-test/test');
        },
        expect: only(['admin']),
      },
      { route: 'GET /api/v1/alert-rules', call: (p) => p.request('GET', '/api/v1/alert-rules'), expect: all('ok') },
      {
        route: 'GET /api/v1/alert-rules/:id',
        call: async (p) => {
          await admin.request('POST', '/api/v1/alert-rules', alertRule('open.matrix-read'));
          return p.request('GET', '/api/v1/alert-rules/open.matrix-read');
        },
        expect: all('ok'),
      },
      {
        route: 'POST /api/v1/alert-rules',
        call: (p, who) => p.request('POST', '/api/v1/alert-rules', alertRule(`open.matrix-${who.toLowerCase()}`)),
        expect: only(['editor', 'admin']),
      },
      {
        route: 'PATCH /api/v1/alert-rules/:id',
        call: async (p) => {
          await admin.request('POST', '/api/v1/alert-rules', alertRule('open.matrix-patch'));
          return p.request('PATCH', '/api/v1/alert-rules/open.matrix-patch', { maxPerHour: 3 });
        },
        expect: only(['editor', 'admin']),
      },
      {
        route: 'DELETE /api/v1/alert-rules/:id',
        call: async (p, who) => {
          await admin.request('POST', '/api/v1/alert-rules', alertRule(`open.doomed-${who.toLowerCase()}`));
          return p.request('DELETE', `/api/v1/alert-rules/open.doomed-${who.toLowerCase()}`);
        },
        expect: only(['editor', 'admin']),
      },
      {
        route: 'POST /api/v1/alert-rules/:id/reset',
        call: async (p) => {
          await admin.request('POST', '/api/v1/alert-rules', alertRule('open.matrix-reset'));
          return p.request('POST', '/api/v1/alert-rules/open.matrix-reset/reset');
        },
        expect: only(['admin']),
      },
      { route: 'GET /api/v1/pools', call: (p) => p.request('GET', '/api/v1/pools'), expect: all('ok') },
      {
        route: 'GET /api/v1/pools/:id',
        call: (p) => p.request('GET', '/api/v1/pools/open.matrix-pool'),
        expect: all('ok'),
      },
      {
        route: 'POST /api/v1/pools',
        call: (p, who) => p.request('POST', '/api/v1/pools', matrixPool(`open.pool-${who.toLowerCase()}`)),
        expect: only(['editor', 'admin']),
      },
      {
        route: 'PATCH /api/v1/pools/:id',
        call: async (p, who) => {
          await admin.request('POST', '/api/v1/pools', matrixPool(`open.patch-${who.toLowerCase()}`));
          return p.request('PATCH', `/api/v1/pools/open.patch-${who.toLowerCase()}`, { max: 4 });
        },
        expect: only(['editor', 'admin']),
      },
      {
        route: 'DELETE /api/v1/pools/:id',
        call: async (p, who) => {
          await admin.request('POST', '/api/v1/pools', matrixPool(`open.doomed-pool-${who.toLowerCase()}`));
          return p.request('DELETE', `/api/v1/pools/open.doomed-pool-${who.toLowerCase()}`);
        },
        expect: only(['editor', 'admin']),
      },
      {
        route: 'POST /api/v1/pools/:id/scale',
        call: (p) => p.request('POST', '/api/v1/pools/open.matrix-pool/scale', { by: 1, reason: 'matrix' }),
        expect: only(['operator', 'editor', 'admin', 'openOperator']),
      },
      {
        route: 'GET /api/v1/pools/:id/actions',
        call: (p) => p.request('GET', '/api/v1/pools/open.matrix-pool/actions'),
        expect: all('ok'),
      },
      {
        route: 'GET /api/v1/pools/:id/actions/:action',
        call: async (p) => {
          const { body } = await admin.request('POST', '/api/v1/pools/open.matrix-pool/scale', { by: 1, reason: 'matrix' });
          return p.request('GET', `/api/v1/pools/open.matrix-pool/actions/${body.id}`);
        },
        expect: all('ok'),
      },
      {
        route: 'POST /api/v1/pools/:id/actions/:action/approve',
        call: async (p) => {
          const { body } = await as.operator.request('POST', '/api/v1/pools/open.matrix-pool/scale', { by: 2, reason: 'matrix' });
          return p.request('POST', `/api/v1/pools/open.matrix-pool/actions/${body.id}/approve`);
        },
        expect: only(['admin']),
      },
      {
        route: 'POST /api/v1/pools/:id/actions/:action/reject',
        call: async (p) => {
          const { body } = await as.operator.request('POST', '/api/v1/pools/open.matrix-pool/scale', { by: 2, reason: 'matrix' });
          return p.request('POST', `/api/v1/pools/open.matrix-pool/actions/${body.id}/reject`, {});
        },
        expect: only(['admin']),
      },
    ];

    it('has a row for every registered route', () => {
      const covered = new Set(rows.map((r) => r.route.replace(/ \(.*\)$/, '')));
      const missing = registeredRoutes(admin)
        .map((r) => `${r.method} ${r.path}`)
        .filter((key) => !isPublicByDesign(key) && !covered.has(key));
      expect(missing).toEqual([]);
    });

    it('gives every role exactly what the table says', async () => {
      const mismatches: string[] = [];
      for (const row of rows) {
        for (const who of EVERYONE) {
          const { status } = await row.call(as[who], who);
          const expected = row.expect[who];
          const isMatch = expected === 'ok' ? status >= 200 && status < 300 : status === expected;
          if (!isMatch) mismatches.push(`${row.route} as ${who}: got ${status}, expected ${expected}`);
        }
      }
      expect(mismatches).toEqual([]);
    });
  });

  it('hides runbooks a user may not see from lists, and their executions too', async () => {
    const ids = (await as.operator.request('GET', '/api/v1/runbooks')).body.map((r: { id: string }) => r.id);
    expect(ids).toEqual(expect.arrayContaining(['open.hello', 'open.admin-only']));
    expect(ids).not.toContain('ops.restricted');
    const hidden = await admin.run('ops.restricted', {});
    await admin.waitForEnd(hidden);
    const listed = (await as.operator.request('GET', '/api/v1/executions?limit=1000')).body.map((e: { id: string }) => e.id);
    expect(listed).not.toContain(hidden);
    expect((await as.operator.request('GET', '/api/v1/executions?runbook=ops.restricted')).body).toEqual([]);
    expect((await as.editor.request('GET', '/api/v1/executions?limit=1000')).body.map((e: { id: string }) => e.id)).toContain(hidden);
  });

  describe('API tokens', () => {
    const withToken = (token: string) => {
      const p = new Portal(admin.app, admin.url);
      p.token = token;
      return p;
    };

    it('is shown once, acts with fewer roles when asked, and stops working when revoked', async () => {
      const created = await as.operator.request('POST', '/api/v1/auth/tokens', { name: 'deploy-script', roles: [{ role: 'viewer' }] });
      expect(created.status).toBe(201);
      expect(created.body.token).toMatch(/^bt_[0-9a-f]{16}_/);
      const script = withToken(created.body.token);
      expect((await script.request('GET', '/api/v1/auth/me')).body).toMatchObject({ username: 'operator', roles: [{ role: 'viewer' }] });
      expect((await script.request('GET', '/api/v1/runbooks')).status).toBe(200);
      expect((await script.request('POST', '/api/v1/runbooks/open.hello/executions', {})).status).toBe(403);

      const listed = (await as.operator.request('GET', '/api/v1/auth/tokens')).body;
      expect(listed.find((t: { id: string }) => t.id === created.body.id)).toMatchObject({ name: 'deploy-script', revokedAt: null });
      expect(JSON.stringify(listed)).not.toContain(created.body.token);

      expect((await as.operator.request('DELETE', `/api/v1/auth/tokens/${created.body.id}`)).status).toBe(200);
      expect((await script.request('GET', '/api/v1/runbooks')).status).toBe(401);
    });

    it('acts with the user roles by default and runs what the user may run', async () => {
      const { body } = await as.operator.request('POST', '/api/v1/auth/tokens', { name: 'runner' });
      const script = withToken(body.token);
      const run = await script.request('POST', '/api/v1/runbooks/open.hello/executions', {});
      expect(run.status).toBe(201);
      const execution = await admin.waitForEnd(run.body.id);
      expect(execution).toMatchObject({ status: 'succeeded', actor: 'operator', trigger: { type: 'token', user: 'operator' } });
    });

    it('refuses roles beyond the creating user, a past expiry, and a wrong secret', async () => {
      expect((await as.operator.request('POST', '/api/v1/auth/tokens', { name: 'x', roles: [{ role: 'admin' }] })).status).toBe(403);
      const past = await as.operator.request('POST', '/api/v1/auth/tokens', { name: 'x', expiresAt: '2001-01-01T00:00:00Z' });
      expect(past.status).toBe(400);
      expect(past.text).toContain('expiresAt');
      const { body } = await as.operator.request('POST', '/api/v1/auth/tokens', { name: 'x' });
      const forged = body.token.slice(0, -4) + (body.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      expect((await withToken(forged).request('GET', '/api/v1/runbooks')).status).toBe(401);
    });

    it('expires at its expiry time', async () => {
      const expiresAt = new Date(Date.now() + 1500).toISOString();
      const { body } = await as.viewer.request('POST', '/api/v1/auth/tokens', { name: 'short', expiresAt });
      const script = withToken(body.token);
      expect((await script.request('GET', '/api/v1/runbooks')).status).toBe(200);
      await sleep(1700);
      expect((await script.request('GET', '/api/v1/runbooks')).status).toBe(401);
    });

    it('never acts with more than its user currently holds, and dies with its user', async () => {
      await admin.request('POST', '/api/v1/users', { username: 'shrinking', password: PASSWORD, roles: [{ role: 'operator' }] });
      const user = new Portal(admin.app, admin.url);
      await user.login('shrinking', PASSWORD);
      const { body } = await user.request('POST', '/api/v1/auth/tokens', { name: 'ops', roles: [{ role: 'operator' }] });
      const script = withToken(body.token);
      expect((await script.request('POST', '/api/v1/runbooks/open.hello/executions', {})).status).toBe(201);
      await admin.request('PATCH', '/api/v1/users/shrinking', { roles: [{ role: 'viewer' }] });
      expect((await script.request('POST', '/api/v1/runbooks/open.hello/executions', {})).status).toBe(403);
      await admin.request('DELETE', '/api/v1/users/shrinking');
      expect((await script.request('GET', '/api/v1/runbooks')).status).toBe(401);
    });
  });

  describe('sessions', () => {
    const login = async (username: string) => {
      const res = await fetch(`${admin.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: PASSWORD }),
      });
      return (await res.json()) as { accessToken: string; refreshToken: string; expiresIn: number };
    };
    const refresh = (refreshToken: string) =>
      fetch(`${admin.url}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken }),
      });

    it('issues a short-lived access token with a refresh token that works once', async () => {
      const first = await login('viewer');
      expect(first.expiresIn).toBe(15 * 60);
      const res = await refresh(first.refreshToken);
      expect(res.status).toBe(200);
      const second = (await res.json()) as { accessToken: string; refreshToken: string };
      const p = new Portal(admin.app, admin.url);
      p.token = second.accessToken;
      expect((await p.request('GET', '/api/v1/auth/me')).body.username).toBe('viewer');

      // Replaying the used token revokes the whole family, including the token that replaced it.
      expect((await refresh(first.refreshToken)).status).toBe(401);
      expect((await refresh(second.refreshToken)).status).toBe(401);
    });

    it('ends the session on logout', async () => {
      const session = await login('viewer');
      const out = await fetch(`${admin.url}/api/v1/auth/logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: session.refreshToken }),
      });
      expect(out.status).toBe(204);
      expect((await refresh(session.refreshToken)).status).toBe(401);
    });

    it('ends sessions when roles change, so the new roles apply at the next sign-in', async () => {
      await admin.request('POST', '/api/v1/users', { username: 'promoted', password: PASSWORD, roles: [{ role: 'viewer' }] });
      const session = await login('promoted');
      await admin.request('PATCH', '/api/v1/users/promoted', { roles: [{ role: 'operator' }] });
      // Changing roles ends existing sessions: the user signs in again and gets the new roles.
      expect((await refresh(session.refreshToken)).status).toBe(401);
      const again = new Portal(admin.app, admin.url);
      await again.login('promoted', PASSWORD);
      expect((await again.request('GET', '/api/v1/auth/me')).body.roles).toEqual([{ role: 'operator' }]);
    });
  });

  describe('login throttling', () => {
    const attempt = (username: string, password: string) =>
      fetch(`${admin.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });

    it('answers 429 after 5 failures for one user from one address, until the window passes', async () => {
      await admin.request('POST', '/api/v1/users', { username: 'target', password: PASSWORD, roles: [{ role: 'viewer' }] });
      for (let i = 0; i < 5; i++) expect((await attempt('target', 'wrong-password')).status).toBe(401);
      const throttled = await attempt('target', PASSWORD);
      expect(throttled.status).toBe(429);
      expect(((await throttled.json()) as { message: string }).message).toMatch(/too many failed logins for "target".*try again in \d+ s/);
      // Another user from the same address is not affected.
      expect((await attempt('viewer', PASSWORD)).status).toBe(200);

      // Move the failures out of the 15-minute window, as time would.
      const db = new Client({ connectionString: env.databaseUrl });
      await db.connect();
      await db.query(`UPDATE login_failures SET at = at - interval '16 minutes' WHERE username = 'target'`);
      await db.end();
      expect((await attempt('target', PASSWORD)).status).toBe(200);
    });

    it('refuses an unknown user like a wrong password', async () => {
      const res = await attempt('nobody-here', 'whatever');
      expect(res.status).toBe(401);
      expect(await res.text()).toContain('wrong username or password');
    });
  });

  describe('users', () => {
    it('validates input and names the field', async () => {
      const res = await admin.request('POST', '/api/v1/users', { username: 'bad', password: 'short', roles: [{ role: 'root' }] });
      expect(res.status).toBe(400);
      expect(res.text).toContain('password must be at least 12 characters');
      expect(res.text).toContain('role');
    });

    it('refuses a duplicate and never shows password hashes', async () => {
      const dup = await admin.request('POST', '/api/v1/users', { username: 'viewer', password: PASSWORD, roles: [] });
      expect(dup.status).toBe(409);
      const listed = await admin.request('GET', '/api/v1/users');
      expect(listed.text).not.toContain('argon2');
      expect(listed.body.find((u: { username: string }) => u.username === 'viewer')).toMatchObject({
        roles: [{ role: 'viewer' }],
        source: 'local',
      });
    });

    it('keeps the last admin', async () => {
      const res = await admin.request('DELETE', '/api/v1/users/admin');
      expect(res.status).toBe(409);
      expect(res.text).toContain('last admin');
    });
  });

  describe('audit of access', () => {
    const events = async (query: string) => (await admin.request('GET', `/api/v1/audit?${query}`)).body.items as any[];

    it('records refused access, failed and successful logins, and token use', async () => {
      expect((await as.viewer.request('GET', '/api/v1/users')).status).toBe(403);
      await fetch(`${admin.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'auditor', password: 'not-the-password' }),
      });
      const { body } = await as.operator.request('POST', '/api/v1/auth/tokens', { name: 'audited' });
      const script = new Portal(admin.app, admin.url);
      script.token = body.token;
      await script.request('POST', '/api/v1/runbooks/open.hello/executions', {});
      await sleep(200); // refusals are recorded when their response has finished

      const denied = await events('action=access.denied&actor=viewer');
      expect(denied[0]).toMatchObject({
        actor: { type: 'user', name: 'viewer' },
        details: { status: 403, attempted: 'GET /api/v1/users' },
      });
      const failed = await events('action=auth.login&target=user:auditor');
      expect(failed[0]).toMatchObject({ actor: { type: 'anonymous', name: 'auditor' }, details: { status: 401 } });
      expect(JSON.stringify(failed[0])).not.toContain('not-the-password');
      const viaToken = await events('action=execution.request&actor=operator');
      expect(viaToken[0]).toMatchObject({ actor: { type: 'token', name: 'operator' }, details: { tokenId: body.id } });
      expect((await admin.request('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
    });

    it('never stores a secret value, even when an admin sends one', async () => {
      await admin.request('PUT', '/api/v1/secrets/audit-probe', { value: 'probe-value-123' });
      await admin.request('POST', '/api/v1/users', { username: 'probe-value-123', password: PASSWORD, roles: [] });
      const exported = (await admin.request('GET', '/api/v1/audit/export?format=jsonl')).text;
      expect(exported).toContain('secret.set');
      expect(exported).not.toContain('probe-value-123');
    });
  });

  it('sends security headers and no CORS headers unless configured', async () => {
    const res = await fetch(`${admin.url}/health/live`, { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
