/**
 * The declarative resource format (apiVersion baton/v1): one zod schema per kind.
 * Types are inferred from these schemas and imported by the portal, the agent and the UI.
 */
import { z } from 'zod';
import { isDuration } from '../duration';

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
  steps: z.array(stepSchema).min(1),
  onFailure: z.array(stepSchema).optional(),
});
export type Runbook = z.infer<typeof runbookSchema>;

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

/** Every kind the loader understands; later kinds (Job, AlertRule, Pool) join this union. */
export const resourceSchema = z.discriminatedUnion('kind', [runbookSchema, nodeResourceSchema]);
export type Resource = z.infer<typeof resourceSchema>;
