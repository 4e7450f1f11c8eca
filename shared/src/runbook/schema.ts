/**
 * The declarative resource format (apiVersion baton/v1): one zod schema per kind.
 * Types are inferred from these schemas and imported by the portal, the agent and the UI.
 */
import { z } from 'zod';
import { isDuration, parseDuration } from '../duration';
import { cronProblem, timeZoneProblem } from './cron';

const identifier = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, "-" or "_"');
const resourceId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*\.[a-z0-9][a-z0-9_.-]*$/, 'must be <namespace>.<name> in lower case, e.g. web.restart-nginx');
const duration = z.string().refine(isDuration, 'must be a duration such as 500ms, 30s, 15m, 2h');
const labels = z.record(z.string(), z.string());

/** The name of a stored secret (`PUT /api/v1/secrets/{name}`), e.g. `demo-token` or `db.prod_password`. */
export const secretNameSchema = z
  .string()
  .max(128)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be lower-case letters, digits, ".", "-" or "_", e.g. demo-token');
/** A step `env` value taken from a stored secret: `TOKEN: { secret: demo-token }`. */
export const secretRefSchema = z.strictObject({ secret: secretNameSchema });
export type SecretRef = z.infer<typeof secretRefSchema>;
export const envNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);

const paramBase = {
  description: z.string().optional(),
  required: z.boolean().optional(),
};

export const paramSpecSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...paramBase,
    type: z.literal('string'),
    default: z.string().optional(),
    pattern: z.string().optional(),
    minLength: z.number().int().min(0).optional(),
    maxLength: z.number().int().min(0).optional(),
  }),
  z.strictObject({
    ...paramBase,
    type: z.literal('integer'),
    default: z.number().int().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  }),
  z.strictObject({
    ...paramBase,
    type: z.literal('number'),
    default: z.number().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  }),
  z.strictObject({ ...paramBase, type: z.literal('boolean'), default: z.boolean().optional() }),
  z.strictObject({ ...paramBase, type: z.literal('enum'), values: z.array(z.string()).min(1), default: z.string().optional() }),
  // Never a `default` in clear: when the caller gives no value, the stored secret named by `secret` is used.
  z.strictObject({ ...paramBase, type: z.literal('secret'), secret: secretNameSchema.optional() }),
]);
export type ParamSpec = z.infer<typeof paramSpecSchema>;
export type ParamType = ParamSpec['type'];

export const retrySchema = z.strictObject({
  attempts: z.number().int().min(1).max(100),
  backoff: duration.optional(),
});

/** A step that runs a command on each target node (through `sh -c`), or an HTTP call made by the portal. */
export const stepSchema = z.strictObject({
  id: identifier,
  name: z.string().optional(),
  needs: z.array(identifier).optional(),
  run: z.string().min(1).optional(),
  shell: z.string().optional(),
  env: z.record(envNameSchema, z.union([z.string(), secretRefSchema])).optional(),
  workdir: z.string().optional(),
  retry: retrySchema.optional(),
  timeout: duration.optional(),
  continueOnError: z.boolean().optional(),
  on: z.enum(['node', 'portal']).optional(),
  http: z
    .strictObject({
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
      url: z.string().url(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.string().optional(),
    })
    .optional(),
});
export type Step = z.infer<typeof stepSchema>;

export const targetsSchema = z.strictObject({
  labels: labels.optional(),
  names: z.array(z.string().min(1)).optional(),
  local: z.boolean().optional(),
  concurrency: z.number().int().min(1).optional(),
  maxFailures: z.number().int().min(0).optional(),
});
export type Targets = z.infer<typeof targetsSchema>;

/** A notifier's name, as in `notify: [{ notifier: ops-slack }]` and `/api/v1/notifiers/{id}`. */
export const notifierIdSchema = z
  .string()
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, "-" or "_", e.g. ops-slack');

/** What a runbook's or job's `notify:` entry listens to: the outcomes of its own runs. */
export const RUN_NOTIFY_EVENTS = ['succeeded', 'failed', 'timed_out', 'waiting', 'input.requested', 'node.lost'] as const;

/** `notify: [{ notifier: ops-slack, on: [failed] }]` on a runbook or a job: these notifiers hear about its runs. */
export const notifyListSchema = z.array(
  z.strictObject({
    notifier: notifierIdSchema,
    on: z.array(z.enum(RUN_NOTIFY_EVENTS)).min(1).default(['failed', 'timed_out']),
  }),
);
export type NotifyList = z.infer<typeof notifyListSchema>;

export const runbookSchema = z.strictObject({
  apiVersion: z.literal('baton/v1'),
  kind: z.literal('Runbook'),
  id: resourceId,
  title: z.string().min(1),
  description: z.string().optional(),
  tags: z.array(z.string()).optional(),
  access: z.strictObject({ run: z.array(z.string()).optional(), view: z.array(z.string()).optional() }).optional(),
  params: z.record(identifier, paramSpecSchema).optional(),
  targets: targetsSchema.optional(),
  timeout: duration.optional(),
  concurrency: z
    .strictObject({
      /** Executions of this runbook (per key) running at once. */
      limit: z.number().int().min(1),
      /** Counts per value of this template, e.g. `{{ params.service }}`; one count for the runbook when absent. */
      key: z
        .string()
        .regex(/^([^{}]|\{\{\s*params\.[A-Za-z_][A-Za-z0-9_]*\s*\}\})*$/, 'may only use {{ params.<name> }} placeholders')
        .optional(),
      /** When the limit is reached: wait `queued` (default) or refuse the new run with 409. */
      onLimit: z.enum(['queue', 'refuse']).default('queue'),
    })
    .optional(),
  steps: z.array(stepSchema).min(1),
  onFailure: z.array(stepSchema).optional(),
  notify: notifyListSchema.optional(),
  approval: z
    .strictObject({
      /** Distinct approvers needed. */
      required: z.number().int().min(1).max(10).default(1),
      /** Who may decide: roles (global or in the runbook's namespace) and/or user names; admins always may. */
      approvers: z
        .strictObject({ roles: z.array(z.string()).optional(), users: z.array(z.string()).optional() })
        .default({ roles: ['admin'] }),
      /** Only runs whose parameter `param` has one of these values need approval. */
      when: z.strictObject({ param: identifier, in: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }).optional(),
      /** Not decided within this: the run ends `timed_out`. */
      timeout: duration.default('4h'),
      /** Whether the requester may approve their own run (four eyes: no). */
      selfApproval: z.boolean().default(false),
    })
    .optional(),
});
export type Runbook = z.infer<typeof runbookSchema>;
export type ApprovalPolicy = NonNullable<Runbook['approval']>;

/** Whether a run with these parameters needs approval under the runbook's policy. */
export function needsApproval(runbook: Pick<Runbook, 'approval'>, params: Record<string, unknown>): boolean {
  const policy = runbook.approval;
  if (!policy) return false;
  return !policy.when || policy.when.in.some((v) => v === params[policy.when!.param]);
}

/** The concurrency key of a run: the runbook id and its `concurrency.key` with the parameters filled in. */
export function concurrencyKeyOf(runbook: Pick<Runbook, 'id' | 'concurrency'>, params: Record<string, unknown>): string | undefined {
  if (!runbook.concurrency) return undefined;
  const key = (runbook.concurrency.key ?? '').replace(/\{\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) =>
    String(params[name] ?? ''),
  );
  return key ? `${runbook.id}:${key}` : runbook.id;
}

/** A hook's name, as in `POST /api/v1/hooks/alertmanager/{name}`. */
export const hookNameSchema = z
  .string()
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, "-" or "_", e.g. alertmanager-prod');

/**
 * A parameter value given by an alert rule: a string may use `{{ labels.x }}`, `{{ annotations.x }}`,
 * `{{ status }}` and `{{ fingerprint }}` (see alert-template.ts); the result is checked by the runbook's param specs.
 */
const alertParamValue = z.union([z.string(), z.number(), z.boolean()]);

/** Where a remediation runs: a runbook-style selection, or the node named by an alert label (`fromLabel: instance`). */
export const alertTargetsSchema = targetsSchema.extend({
  /** The label whose value names the node; `host:port` is cut to `host`. */
  fromLabel: z.string().min(1).optional(),
});
export type AlertTargets = z.infer<typeof alertTargetsSchema>;

/**
 * A change of a pool's size: `by` nodes (negative shrinks) or `to` a size. Used by alert rules and jobs
 * (`action: { pool: web.pool, by: 2 }`) and by `POST /api/v1/pools/{id}/scale`.
 */
export const poolChangeSchema = z
  .strictObject({
    pool: resourceId,
    by: z.number().int().min(-1000).max(1000).optional(),
    to: z.number().int().min(0).max(10_000).optional(),
  })
  .refine((c) => (c.by === undefined) !== (c.to === undefined), 'give exactly one of "by" or "to"')
  .refine((c) => c.by !== 0, '"by" must not be 0');
export type PoolChange = z.infer<typeof poolChangeSchema>;

const alertResolvedSchema = z.union([
  z.strictObject({ runbook: resourceId, params: z.record(z.string(), alertParamValue).optional() }),
  z.strictObject({ action: poolChangeSchema }),
]);

/** A rule that leaves out `maxPerHour` starts at most this many remediations in any hour. */
export const DEFAULT_MAX_PER_HOUR = 10;

export const alertRuleSchema = z.strictObject({
  apiVersion: z.literal('baton/v1'),
  kind: z.literal('AlertRule'),
  id: resourceId,
  description: z.string().optional(),
  /** Only alerts delivered through this hook; any hook when absent. */
  hook: hookNameSchema.optional(),
  /** Every label must match: equal to the value, or, written as `/regex/`, matching the regular expression. */
  match: z.record(z.string().min(1), z.string()).refine((m) => Object.keys(m).length > 0, 'must name at least one label'),
  /** What a firing alert starts: a runbook (with `params` and `targets`), or a pool `action`; exactly one. */
  runbook: resourceId.optional(),
  action: poolChangeSchema.optional(),
  params: z.record(z.string(), alertParamValue).optional(),
  targets: alertTargetsSchema.optional(),
  /** What the alert's resolution starts: a runbook, or a pool action (e.g. give back what the firing added). */
  onResolved: alertResolvedSchema.optional(),
  /** A firing episode already remediated is remediated again only after this long, if it still fires. */
  cooldown: duration,
  /** Circuit breaker: at most this many remediations started per rule in any hour. */
  maxPerHour: z.number().int().min(1).max(10_000).default(DEFAULT_MAX_PER_HOUR),
  enabled: z.boolean().optional(),
});
export type AlertRule = z.infer<typeof alertRuleSchema>;

/** A string checked by a function that says what is wrong with it (null: nothing). */
const checkedString = (problemOf: (value: string) => string | null) =>
  z.string().superRefine((value, ctx) => {
    const problem = problemOf(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const JOB_CONCURRENCY = ['forbid', 'allow', 'replace'] as const;
export const JOB_MISFIRE = ['skip', 'runOnce'] as const;

/** When a job fires: a cron expression (5 fields, or 6 with seconds first) read in an IANA time zone. */
export const jobScheduleSchema = z.strictObject({
  cron: checkedString(cronProblem),
  timezone: checkedString(timeZoneProblem).default('UTC'),
});
export type JobSchedule = z.infer<typeof jobScheduleSchema>;

/** The fields of a Job, without apiVersion and kind: what `POST /api/v1/jobs` takes. */
export const jobSpecShape = {
  id: resourceId,
  description: z.string().optional(),
  runbook: resourceId,
  params: z.record(identifier, z.unknown()).optional(),
  targets: targetsSchema.optional(),
  schedule: jobScheduleSchema,
  /** What a fire does while the job's previous run is still going: skip it, run both, or cancel the old one. */
  concurrency: z.enum(JOB_CONCURRENCY).default('forbid'),
  /** Fire times missed while no portal was running: record them as skipped, or run once for all of them. */
  misfire: z.enum(JOB_MISFIRE).default('skip'),
  enabled: z.boolean().default(true),
  notify: notifyListSchema.optional(),
};

/** A runbook run on a schedule. Parameters are checked against the runbook's when the job is stored or fires. */
export const jobSchema = z.strictObject({
  apiVersion: z.literal('baton/v1'),
  kind: z.literal('Job'),
  ...jobSpecShape,
});
export type Job = z.infer<typeof jobSchema>;

/** Which nodes a pool gives back on scale-in: the newest or oldest registered, or those running nothing first. */
export const SCALE_IN_PICKS = ['newest', 'oldest', 'idle'] as const;

const providerParams = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

/**
 * A pool of nodes (those matching `selector.labels`) kept between `min` and `max` by provider runbooks: `scaleOut`
 * adds nodes, `scaleIn` removes the nodes Baton names. Baton passes `count` (and `nodes` on scale-in) as parameters.
 */
export const poolSchema = z.strictObject({
  apiVersion: z.literal('baton/v1'),
  kind: z.literal('Pool'),
  id: resourceId,
  title: z.string().optional(),
  description: z.string().optional(),
  selector: z.strictObject({
    labels: labels.refine((l) => Object.keys(l).length > 0, 'must name at least one label'),
  }),
  min: z.number().int().min(0).max(10_000),
  max: z.number().int().min(0).max(10_000),
  /** After an action starts, automatic requests (alerts, jobs) are refused this long; people need an admin's `force`. */
  cooldown: duration.default('0s'),
  scaleOut: z.strictObject({ runbook: resourceId, params: providerParams.optional() }),
  scaleIn: z.strictObject({ runbook: resourceId, params: providerParams.optional(), pick: z.enum(SCALE_IN_PICKS).default('newest') }),
  /** How long after the provider runbook succeeded the nodes have to join (or leave) before the action fails. */
  settleTimeout: duration.default('5m'),
  /** The largest change an operator may make in one request without an admin's approval. */
  operatorLimit: z.number().int().min(0).max(10_000).default(1),
});
export type Pool = z.infer<typeof poolSchema>;

/** A node name: agents, SSH nodes and `local` share one namespace of names. */
export const nodeNameSchema = z
  .string()
  .max(128)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be lower-case letters, digits, ".", "-" or "_", e.g. web-01');

/** A pinned SSH host key as `ssh-keygen -lf` prints it (`SHA256:` + unpadded base64), or `tofu` (pin the first seen). */
export const hostKeySchema = z.union([
  z.literal('tofu'),
  z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be "tofu" or a fingerprint as ssh-keygen -lf prints it, e.g. SHA256:abc...'),
]);

/** What defines an agentless node reached over SSH; the same fields in YAML (`kind: Node`) and in `POST /api/v1/nodes`. */
export const sshNodeSpecSchema = z.strictObject({
  name: nodeNameSchema,
  executor: z.literal('ssh').default('ssh'),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1).max(64),
  /** Stored secret holding a private key (OpenSSH or PEM format). */
  keySecret: secretNameSchema.optional(),
  /** Stored secret holding the password, when the node takes passwords. */
  passwordSecret: secretNameSchema.optional(),
  hostKey: hostKeySchema,
  labels: labels.default({}),
  /** Another SSH node the connection is forwarded through (a bastion). */
  jumpHost: nodeNameSchema.optional(),
});
export type SshNodeSpec = z.infer<typeof sshNodeSpecSchema>;

export const nodeResourceSchema = sshNodeSpecSchema.extend({ apiVersion: z.literal('baton/v1'), kind: z.literal('Node') });
export type NodeResource = z.infer<typeof nodeResourceSchema>;

/** Everything a notifier can be told about; a notifier lists the ones it wants in `on`. */
export const NOTIFIER_EVENTS = [
  'execution.failed',
  'execution.timed_out',
  'execution.succeeded',
  'execution.waiting',
  'input.requested',
  'node.lost',
  'alert.rule.tripped',
  'pool.action.failed',
] as const;
export type NotifierEvent = (typeof NOTIFIER_EVENTS)[number];
export const NOTIFIER_TYPES = ['slack', 'teams', 'webhook', 'email'] as const;
export type NotifierType = (typeof NOTIFIER_TYPES)[number];
/** What started a run, as a notifier's `match.triggers` names it. */
export const TRIGGER_TYPES = ['user', 'token', 'schedule', 'webhook', 'scaling'] as const;

const mailbox = z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, 'must be an e-mail address such as ops@example.org');

/**
 * The fields of a Notifier, without apiVersion and kind: what `POST /api/v1/notifiers` takes. Which fields a type
 * needs (slack and teams a `urlSecret`, email `to`, `from` and `smtp`) is checked by `notifierProblems`.
 */
export const notifierSpecShape = {
  id: notifierIdSchema,
  description: z.string().optional(),
  type: z.enum(NOTIFIER_TYPES),
  /** A webhook's URL in clear; slack and teams URLs are credentials and live in a stored secret (`urlSecret`). */
  url: z.string().url().optional(),
  urlSecret: secretNameSchema.optional(),
  /** Webhook only: the stored secret whose value signs each body (`X-Baton-Signature: sha256=<hex>`). */
  hmacSecret: secretNameSchema.optional(),
  to: z.array(mailbox).min(1).optional(),
  from: mailbox.optional(),
  smtp: z
    .strictObject({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).default(587),
      /** `starttls` (the default) refuses a server that does not offer STARTTLS; `tls` speaks TLS from the start (port 465). */
      security: z.enum(['starttls', 'tls']).default('starttls'),
      user: z.string().min(1).optional(),
      passwordSecret: secretNameSchema.optional(),
      /** PEM certificates to trust besides the system's, for a server with a private CA. */
      ca: z.string().optional(),
    })
    .optional(),
  /** The events this notifier hears about everywhere (narrowed by `match`); runbooks and jobs may also name it in `notify`. */
  on: z.array(z.enum(NOTIFIER_EVENTS)).default([]),
  /** Every list given must contain the event's namespace, runbook, job or trigger type. */
  match: z
    .strictObject({
      namespaces: z.array(z.string().min(1)).min(1).optional(),
      runbooks: z.array(z.string().min(1)).min(1).optional(),
      jobs: z.array(z.string().min(1)).min(1).optional(),
      triggers: z.array(z.enum(TRIGGER_TYPES)).min(1).optional(),
    })
    .optional(),
  /** Attempts per message; between them the wait doubles from `backoff` (capped at one hour). */
  retry: z
    .strictObject({ attempts: z.number().int().min(1).max(100).default(10), backoff: duration.default('5s') })
    .default({ attempts: 10, backoff: '5s' }),
  /** How long one attempt may take (at most 60s). */
  timeout: z
    .string()
    .refine((v) => isDuration(v) && parseDuration(v) <= 60_000, 'must be a duration of at most 60s, such as 10s')
    .default('10s'),
  enabled: z.boolean().default(true),
};

/** Where messages about runs, alert rules and pools go: a chat channel, a webhook or a mailbox. */
export const notifierSchema = z.strictObject({
  apiVersion: z.literal('baton/v1'),
  kind: z.literal('Notifier'),
  ...notifierSpecShape,
});
export type Notifier = z.infer<typeof notifierSchema>;

/** Every kind the loader understands. */
export const resourceSchema = z.discriminatedUnion('kind', [
  runbookSchema,
  alertRuleSchema,
  jobSchema,
  poolSchema,
  nodeResourceSchema,
  notifierSchema,
]);
export type Resource = z.infer<typeof resourceSchema>;
