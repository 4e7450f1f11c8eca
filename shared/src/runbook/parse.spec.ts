import { parseResources, type LoadError } from './parse';
import type { Resource, Runbook } from './schema';

const FILE = 'runbooks/web/test.yaml';

/** YAML text from lines, so a test reads with its line numbers in view. */
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

/** The first four lines of every runbook below. */
const HEADER = ['apiVersion: baton/v1', 'kind: Runbook', 'id: web.test', 'title: Test'];

/** The runbooks among parsed resources (the tests below parse runbooks only). */
const runbooksOf = (resources: Resource[]): Runbook[] => resources.filter((r): r is Runbook => r.kind === 'Runbook');

const at = (line: number, column: number, message: string): LoadError => ({ file: FILE, line, column, message });

function errorsIn(text: string): LoadError[] {
  const { resources, errors } = parseResources(text, FILE);
  expect(resources).toEqual([]);
  return errors;
}

const DESIGN_EXAMPLE = yaml(
  'apiVersion: baton/v1',
  'kind: Runbook',
  'id: web.restart-nginx            # <namespace>.<name>',
  'title: Restart nginx',
  'description: Drain, restart and health-check nginx, one batch at a time.',
  'access: { run: [operator], view: [viewer] }   # admin always may',
  'params:',
  '  drain_seconds: { type: integer, default: 10, min: 0, max: 300 }',
  '  reason:        { type: string, required: true, pattern: "^.{5,200}$" }',
  '  channel:       { type: enum, values: [stable, canary], default: stable }',
  'targets:',
  '  labels: { role: web }          # or names: [...], or local: true',
  '  concurrency: 2                 # rolling batches of 2 nodes',
  '  maxFailures: 0                 # stop starting new nodes after this many fail',
  'timeout: 15m',
  'steps:',
  '  - id: drain',
  '    run: curl -fsS -X POST "http://localhost:8080/drain?seconds=$DRAIN_SECONDS"',
  '    retry: { attempts: 3, backoff: 2s }',
  '    timeout: 30s',
  '  - id: restart',
  '    needs: [drain]',
  '    run: systemctl restart nginx',
  '  - id: check',
  '    needs: [restart]',
  '    run: curl -fsS http://localhost/healthz',
  'onFailure:',
  '  - id: notify',
  '    on: portal                   # runs on the portal, not on the nodes',
  '    http: { method: POST, url: "https://chat.example/hook", body: "restart failed" }',
);

describe('parseResources', () => {
  describe('SSH nodes (kind: Node)', () => {
    const NODE = ['apiVersion: baton/v1', 'kind: Node', 'name: web-01', 'host: 10.0.0.5', 'user: deploy'];

    it('loads a node with defaults for port, executor and labels', () => {
      const { resources, errors } = parseResources(yaml(...NODE, 'keySecret: ssh.deploy', 'hostKey: tofu'), FILE);
      expect(errors).toEqual([]);
      expect(resources).toEqual([
        expect.objectContaining({ kind: 'Node', name: 'web-01', port: 22, executor: 'ssh', labels: {}, hostKey: 'tofu' }),
      ]);
    });

    it('refuses a node without credentials, a malformed host key, and a node that is its own jump host', () => {
      expect(errorsIn(yaml(...NODE, 'hostKey: tofu'))).toEqual([
        at(1, 1, 'an SSH node needs "keySecret" (a stored private key) or "passwordSecret"'),
      ]);
      expect(errorsIn(yaml(...NODE, 'keySecret: k1', 'hostKey: md5:aa'))[0].message).toMatch(/^hostKey: must be "tofu" or a fingerprint/);
      expect(errorsIn(yaml(...NODE, 'keySecret: k1', 'hostKey: tofu', 'jumpHost: web-01'))).toEqual([
        at(8, 11, 'jumpHost: a node cannot be its own jump host'),
      ]);
    });
  });

  describe('valid files', () => {
    it('loads the example runbook of the design', () => {
      const { resources, errors } = parseResources(DESIGN_EXAMPLE, FILE);
      expect(errors).toEqual([]);
      expect(resources).toHaveLength(1);
      const [runbook] = runbooksOf(resources);
      expect(runbook).toMatchObject({
        kind: 'Runbook',
        id: 'web.restart-nginx',
        access: { run: ['operator'], view: ['viewer'] },
        params: { drain_seconds: { type: 'integer', default: 10, min: 0, max: 300 } },
        targets: { labels: { role: 'web' }, concurrency: 2, maxFailures: 0 },
        timeout: '15m',
      });
      expect(runbook.steps.map((step) => [step.id, step.needs ?? []])).toEqual([
        ['drain', []],
        ['restart', ['drain']],
        ['check', ['restart']],
      ]);
      expect(runbook.onFailure?.[0]).toMatchObject({
        id: 'notify',
        on: 'portal',
        http: { method: 'POST', url: 'https://chat.example/hook' },
      });
    });

    it('loads every document of a multi-document file', () => {
      const text = yaml(
        ...HEADER,
        'steps: [{ id: a, run: "true" }]',
        '---',
        'apiVersion: baton/v1',
        'kind: Runbook',
        'id: web.other',
        'title: Other',
        'steps: [{ id: b, run: "true" }]',
      );
      const { resources, errors } = parseResources(text, FILE);
      expect(errors).toEqual([]);
      expect(runbooksOf(resources).map((resource) => resource.id)).toEqual(['web.test', 'web.other']);
    });

    it('ignores empty documents around separators and files of only comments', () => {
      expect(parseResources(yaml('---', ...HEADER, 'steps: [{ id: a, run: "true" }]', '---'), FILE)).toMatchObject({
        errors: [],
        resources: [{ id: 'web.test' }],
      });
      expect(parseResources(yaml('# nothing here yet'), FILE)).toEqual({ errors: [], resources: [] });
      expect(parseResources('', FILE)).toEqual({ errors: [], resources: [] });
    });

    it('fills in the default HTTP method', () => {
      const text = yaml(
        ...HEADER,
        'steps: [{ id: a, run: "true" }]',
        'onFailure:',
        '  - id: notify',
        '    on: portal',
        '    http: { url: "https://chat.example/hook" }',
      );
      const [runbook] = runbooksOf(parseResources(text, FILE).resources);
      expect(runbook.onFailure?.[0].http?.method).toBe('POST');
    });
  });

  describe('YAML syntax errors', () => {
    it('names the line and column of a duplicated key', () => {
      expect(errorsIn(yaml(...HEADER, 'title: Again', 'steps: [{ id: a, run: "true" }]'))).toEqual([at(5, 1, 'Map keys must be unique')]);
    });

    it('names the line of an unclosed flow sequence', () => {
      expect(errorsIn(yaml(...HEADER, 'steps: [{ id: a, run: "true" }', 'timeout: 5m'))).toEqual([
        at(6, 1, 'Flow sequence in block collection must be sufficiently indented and end with a ]'),
      ]);
    });

    it('names the line of a tab used as indentation', () => {
      expect(errorsIn(yaml(...HEADER, 'steps:', '  - id: a', '\trun: "true"'))).toEqual([at(7, 1, 'Tabs are not allowed as indentation')]);
    });

    it('keeps the good document of a file where another document is broken', () => {
      const text = yaml(
        ...HEADER,
        'steps: [{ id: a, run: "true" }]',
        '---',
        'apiVersion: baton/v1',
        'kind: Runbook',
        'id: web.broken',
        'title: Broken',
        'steps:',
        '  - id: a',
        '  run: "true"',
        '    timeout: 5s',
      );
      const { resources, errors } = parseResources(text, FILE);
      expect(runbooksOf(resources).map((resource) => resource.id)).toEqual(['web.test']);
      expect(errors).toEqual([
        at(13, 1, 'All mapping items must start at the same column'),
        at(14, 1, 'All mapping items must start at the same column'),
      ]);
    });

    it('keeps the good document of a file where another document fails the schema', () => {
      const text = yaml(...HEADER, 'steps: [{ id: a, run: "true" }]', '---', ...HEADER, 'steps: [{ id: a, run: "true", timeout: soon }]');
      const { resources, errors } = parseResources(text, FILE);
      expect(resources).toHaveLength(1);
      expect(errors).toEqual([at(11, 40, 'steps[0].timeout: must be a duration such as 500ms, 30s, 15m, 2h (got "soon")')]);
    });
  });

  describe('schema errors', () => {
    it('names file, line and column of a bad timeout', () => {
      const text = yaml(...HEADER, 'steps:', '  - id: a', '    run: "true"', '  - id: b', '    run: "true"', '    timeout: 5x');
      expect(errorsIn(text)).toEqual([at(10, 14, 'steps[1].timeout: must be a duration such as 500ms, 30s, 15m, 2h (got "5x")')]);
    });

    it('points at the mapping that lacks a required field', () => {
      const text = yaml('apiVersion: baton/v1', 'kind: Runbook', 'id: web.test', 'steps:', '  - run: "true"');
      expect(errorsIn(text)).toEqual([at(1, 1, 'missing required field "title"'), at(5, 5, 'steps[0]: missing required field "id"')]);
    });

    it('points at the key of a field written without a value', () => {
      const text = yaml(...HEADER, 'steps:', '  - id: a', '    run: "true"', '    timeout:');
      expect(errorsIn(text)).toEqual([at(8, 5, 'steps[0].timeout: must be a string (got an empty value)')]);
    });

    it('names an unknown field at its key', () => {
      const text = yaml(...HEADER, 'owner: ops', 'steps:', '  - id: a', '    run: "true"', '    timout: 5s');
      expect(errorsIn(text)).toEqual([at(5, 1, 'unknown field "owner"'), at(9, 5, 'steps[0]: unknown field "timout"')]);
    });

    it('lists the known kinds for an unknown kind', () => {
      expect(errorsIn(yaml('apiVersion: baton/v1', 'kind: Playbook', 'id: web.test'))).toEqual([
        at(2, 7, 'kind: unknown kind "Playbook"; known kinds: Runbook, AlertRule, Job, Pool, Node, Notifier'),
      ]);
    });

    it('asks for a kind when there is none', () => {
      expect(errorsIn(yaml('apiVersion: baton/v1', 'id: web.test'))).toEqual([
        at(1, 1, 'missing required field "kind" (known kinds: Runbook, AlertRule, Job, Pool, Node, Notifier)'),
      ]);
    });

    it('refuses a document that is not a mapping', () => {
      expect(errorsIn(yaml('- id: web.test'))).toEqual([
        at(1, 1, 'a resource must be a mapping with apiVersion, kind and id (got a list)'),
      ]);
    });

    it('names the expected apiVersion', () => {
      expect(errorsIn(yaml('apiVersion: baton/v2', ...HEADER.slice(1), 'steps: [{ id: a, run: "true" }]'))).toEqual([
        at(1, 13, 'apiVersion: must be "baton/v1" (got "baton/v2")'),
      ]);
    });

    it('explains the id format', () => {
      expect(
        errorsIn(yaml('apiVersion: baton/v1', 'kind: Runbook', 'id: RestartNginx', 'title: Test', 'steps: [{ id: a, run: "true" }]')),
      ).toEqual([at(3, 5, 'id: must be <namespace>.<name> in lower case, e.g. web.restart-nginx (got "RestartNginx")')]);
    });

    it('lists the parameter types for an unknown one', () => {
      const text = yaml(...HEADER, 'params:', '  count: { type: int }', 'steps: [{ id: a, run: "true" }]');
      expect(errorsIn(text)).toEqual([
        at(6, 18, 'params.count.type: must be one of string, integer, number, boolean, enum, secret (got "int")'),
      ]);
    });

    it('refuses a parameter name that is not an identifier, at the name', () => {
      const text = yaml(...HEADER, 'params:', '  Count: { type: integer }', 'steps: [{ id: a, run: "true" }]');
      expect(errorsIn(text)).toEqual([at(6, 3, 'params: invalid name: must be lower-case letters, digits, "-" or "_" (got "Count")')]);
    });

    it('refuses an empty step list', () => {
      expect(errorsIn(yaml(...HEADER, 'steps: []'))).toEqual([at(5, 8, 'steps: must not be empty')]);
    });

    it('names the wrong type of a field', () => {
      const text = yaml(...HEADER, 'steps:', '  - id: a', '    run: "true"', '    retry: { attempts: "three" }');
      expect(errorsIn(text)).toEqual([at(8, 24, 'steps[0].retry.attempts: must be a number (got "three")')]);
    });

    it('refuses an HTTP call to something that is not a URL', () => {
      const text = yaml(
        ...HEADER,
        'steps: [{ id: a, run: "true" }]',
        'onFailure:',
        '  - id: notify',
        '    on: portal',
        '    http: { url: chat-hook }',
      );
      expect(errorsIn(text)).toEqual([
        at(9, 18, 'onFailure[0].http.url: must be a URL such as https://chat.example/hook (got "chat-hook")'),
      ]);
    });
  });

  describe('step graph', () => {
    it('refuses a step id used twice, across steps and onFailure', () => {
      const text = yaml(...HEADER, 'steps:', '  - id: a', '    run: "true"', 'onFailure:', '  - id: a', '    run: "true"');
      expect(errorsIn(text)).toEqual([at(9, 9, 'onFailure[0].id: duplicate step id "a" (already used by steps[0])')]);
    });

    it('names a need that no step has', () => {
      const text = yaml(
        ...HEADER,
        'steps:',
        '  - id: drain',
        '    run: "true"',
        '  - id: restart',
        '    needs: [drian]',
        '    run: "true"',
      );
      expect(errorsIn(text)).toEqual([at(9, 13, 'steps[1].needs[0]: unknown step "drian" (known: drain, restart)')]);
    });

    it('refuses a need that crosses from steps into onFailure', () => {
      const text = yaml(
        ...HEADER,
        'steps:',
        '  - id: a',
        '    run: "true"',
        '    needs: [cleanup]',
        'onFailure:',
        '  - id: cleanup',
        '    run: "true"',
      );
      expect(errorsIn(text)).toEqual([
        at(8, 13, 'steps[0].needs[0]: "cleanup" is in onFailure; a step can only need steps of its own list (steps)'),
      ]);
    });

    it('names the steps of a cycle in needs', () => {
      const text = yaml(
        ...HEADER,
        'steps:',
        '  - id: a',
        '    run: "true"',
        '    needs: [c]',
        '  - id: b',
        '    run: "true"',
        '    needs: [a]',
        '  - id: c',
        '    run: "true"',
        '    needs: [b]',
      );
      expect(errorsIn(text)).toEqual([at(8, 12, 'steps[0].needs: cycle in needs: a -> c -> b -> a')]);
    });

    it('refuses a step with neither run nor http', () => {
      const text = yaml(...HEADER, 'steps:', '  - id: a', '    timeout: 5s');
      expect(errorsIn(text)).toEqual([
        at(6, 5, 'steps[0]: a step needs "run" (a command for the nodes) or "http" (a call made by the portal)'),
      ]);
    });

    it('refuses a step with both run and http', () => {
      const text = yaml(
        ...HEADER,
        'steps:',
        '  - id: a',
        '    on: portal',
        '    run: "true"',
        '    http: { url: "https://chat.example/hook" }',
      );
      expect(errorsIn(text)).toEqual([at(6, 5, 'steps[0]: a step has either "run" or "http", not both')]);
    });

    it('refuses http on a step that runs on the nodes', () => {
      const text = yaml(...HEADER, 'steps:', '  - id: a', '    http: { url: "https://chat.example/hook" }');
      expect(errorsIn(text)).toEqual([at(7, 11, 'steps[0].http: only steps with "on: portal" make HTTP calls; add "on: portal"')]);
    });

    it('refuses a command on the portal', () => {
      const text = yaml(...HEADER, 'steps:', '  - id: a', '    on: portal', '    run: rm -rf /tmp/x');
      expect(errorsIn(text)).toEqual([
        at(7, 9, 'steps[0].on: the portal runs no commands, so a step with "on: portal" needs "http" instead of "run"'),
      ]);
    });
  });

  describe('parameters', () => {
    const withParams = (...paramLines: string[]) => yaml(...HEADER, 'params:', ...paramLines, 'steps: [{ id: a, run: "true" }]');

    it('refuses a default above the maximum', () => {
      expect(errorsIn(withParams('  drain_seconds: { type: integer, default: 500, max: 300 }'))).toEqual([
        at(6, 44, 'params.drain_seconds.default: must be at most 300 (got 500)'),
      ]);
    });

    it('refuses a default that is not one of the enum values', () => {
      expect(errorsIn(withParams('  channel: { type: enum, values: [stable, canary], default: beta }'))).toEqual([
        at(6, 61, 'params.channel.default: must be one of stable, canary (got "beta")'),
      ]);
    });

    it('refuses a default that fails the pattern', () => {
      expect(errorsIn(withParams('  name:', '    type: string', '    pattern: "^[a-z]+$"', '    default: World'))).toEqual([
        at(9, 14, 'params.name.default: must match ^[a-z]+$ (got "World")'),
      ]);
    });

    it('refuses a default shorter than minLength', () => {
      expect(errorsIn(withParams('  reason: { type: string, minLength: 5, default: "" }'))).toEqual([
        at(6, 50, 'params.reason.default: must be at least 5 characters long (got 0)'),
      ]);
    });

    it('refuses a pattern that is not a regular expression', () => {
      expect(errorsIn(withParams('  name: { type: string, pattern: "^[a-z+$" }'))).toEqual([
        at(6, 34, 'params.name.pattern: not a valid regular expression: Unterminated character class'),
      ]);
    });

    it('refuses min above max', () => {
      expect(errorsIn(withParams('  ratio: { type: number, min: 5, max: 1 }'))).toEqual([
        at(6, 31, 'params.ratio.min: 5 is greater than max 1'),
      ]);
    });

    it('refuses a parameter that would set PATH', () => {
      expect(errorsIn(withParams('  path: { type: string }'))).toEqual([
        at(6, 3, 'params.path: would set the reserved environment variable PATH; choose another name'),
      ]);
    });

    it('refuses two parameters that become the same environment variable', () => {
      expect(errorsIn(withParams('  dry-run: { type: boolean }', '  dry_run: { type: boolean }'))).toEqual([
        at(7, 3, 'params.dry_run: "dry-run" and "dry_run" would both set the environment variable DRY_RUN'),
      ]);
    });
  });

  describe('targets', () => {
    it('refuses local: true together with names or labels', () => {
      const text = yaml(...HEADER, 'targets:', '  local: true', '  labels: { role: web }', 'steps: [{ id: a, run: "true" }]');
      expect(errorsIn(text)).toEqual([
        at(6, 10, 'targets.local: "local: true" means the portal\'s own host and cannot be combined with "names" or "labels"'),
      ]);
    });
  });

  it('reports every problem of a document in file order', () => {
    const text = yaml(
      ...HEADER,
      'params:',
      '  retries: { type: integer, default: -1, min: 0 }',
      'steps:',
      '  - id: a',
      '    run: "true"',
      '    needs: [ghost]',
      '  - id: a',
      '    run: "true"',
    );
    expect(errorsIn(text)).toEqual([
      at(6, 38, 'params.retries.default: must be at least 0 (got -1)'),
      at(10, 13, 'steps[0].needs[0]: unknown step "ghost" (known: a)'),
      at(11, 9, 'steps[1].id: duplicate step id "a" (already used by steps[0])'),
    ]);
  });
});

describe('secrets in runbooks', () => {
  it('loads step env taken from stored secrets and secret parameters', () => {
    const { resources, errors } = parseResources(
      yaml(
        ...HEADER,
        'params:',
        '  api_key: { type: secret, required: true, description: Key for the API }',
        '  token: { type: secret, secret: demo-token }',
        'steps:',
        '  - id: call',
        '    env: { TOKEN: { secret: demo-token }, MODE: plain }',
        '    run: echo "$TOKEN"',
      ),
      FILE,
    );
    expect(errors).toEqual([]);
    expect(resources[0]).toMatchObject({
      params: { api_key: { type: 'secret', required: true }, token: { type: 'secret', secret: 'demo-token' } },
      steps: [{ env: { TOKEN: { secret: 'demo-token' }, MODE: 'plain' } }],
    });
  });

  it('refuses a default in clear on a secret parameter', () => {
    const errors = errorsIn(
      yaml(...HEADER, 'params:', '  token: { type: secret, default: hunter2 }', 'steps:', '  - { id: a, run: "true" }'),
    );
    expect(errors).toEqual([expect.objectContaining({ line: 6, message: expect.stringContaining('unknown field "default"') })]);
  });

  it('refuses a badly named secret in step env', () => {
    const errors = errorsIn(yaml(...HEADER, 'steps:', '  - id: a', '    env: { TOKEN: { secret: Bad Name } }', '    run: "true"'));
    expect(errors).toHaveLength(1);
    expect(errors[0].line).toBe(7);
  });
});

describe('parseResources: jobs', () => {
  const JOB = ['apiVersion: baton/v1', 'kind: Job', 'id: ops.nightly-disk', 'runbook: ops.disk-usage'];

  it('loads a job and fills in its defaults', () => {
    const { resources, errors } = parseResources(yaml(...JOB, 'schedule:', '  cron: "30 2 * * *"'), FILE);
    expect(errors).toEqual([]);
    expect(resources).toEqual([
      {
        apiVersion: 'baton/v1',
        kind: 'Job',
        id: 'ops.nightly-disk',
        runbook: 'ops.disk-usage',
        schedule: { cron: '30 2 * * *', timezone: 'UTC' },
        concurrency: 'forbid',
        misfire: 'skip',
        enabled: true,
      },
    ]);
  });

  it('names line and column of a cron expression with a wrong number of fields', () => {
    expect(errorsIn(yaml(...JOB, 'schedule:', '  cron: "30 2 * *"'))).toEqual([
      at(
        6,
        9,
        'schedule.cron: needs 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got 4 (got "30 2 * *")',
      ),
    ]);
  });

  it('names the cron field that is out of range', () => {
    expect(errorsIn(yaml(...JOB, 'schedule: { cron: "0 30 25 * * *" }'))).toEqual([
      at(5, 19, 'schedule.cron: hour field "25": 25 is outside 0-23 (got "0 30 25 * * *")'),
    ]);
  });

  it('refuses an unknown time zone', () => {
    expect(errorsIn(yaml(...JOB, 'schedule:', '  cron: "0 3 * * *"', '  timezone: Europe/Gotham'))).toEqual([
      at(
        7,
        13,
        'schedule.timezone: unknown time zone "Europe/Gotham"; use an IANA name such as UTC, Europe/Berlin or America/New_York (got "Europe/Gotham")',
      ),
    ]);
  });

  it('lists the concurrency policies', () => {
    expect(errorsIn(yaml(...JOB, 'schedule: { cron: "* * * * *" }', 'concurrency: queue'))).toEqual([
      at(6, 14, 'concurrency: must be one of forbid, allow, replace (got "queue")'),
    ]);
  });
});

describe('pools and pool actions', () => {
  const pool = (extra = '') =>
    `apiVersion: baton/v1\nkind: Pool\nid: web.pool\nselector: { labels: { role: web } }\nmin: 1\nmax: 3\nscaleOut: { runbook: p.out }\nscaleIn: { runbook: p.in }\n${extra}`;

  it('loads a pool with its defaults', () => {
    const { resources, errors } = parseResources(pool(), 'pool.yaml');
    expect(errors).toEqual([]);
    expect(resources[0]).toMatchObject({
      kind: 'Pool',
      cooldown: '0s',
      settleTimeout: '5m',
      operatorLimit: 1,
      scaleIn: { pick: 'newest' },
    });
  });

  it('refuses min above max', () => {
    const { errors } = parseResources(pool().replace('min: 1', 'min: 4'), 'pool.yaml');
    expect(errors.map((e) => e.message)).toEqual(['min: 4 is greater than max 3']);
  });

  it('takes an alert rule with a pool action instead of a runbook, but not both', () => {
    const rule = `apiVersion: baton/v1\nkind: AlertRule\nid: web.load\nmatch: { alertname: HighLoad }\ncooldown: 1m\nmaxPerHour: 3\n`;
    expect(
      parseResources(`${rule}action: { pool: web.pool, by: 2 }\nonResolved: { action: { pool: web.pool, by: -2 } }\n`, 'r.yaml').errors,
    ).toEqual([]);
    const both = parseResources(`${rule}runbook: web.fix\naction: { pool: web.pool, to: 2 }\n`, 'r.yaml');
    expect(both.errors.map((e) => e.message)).toEqual([expect.stringContaining('give exactly one')]);
  });
});
