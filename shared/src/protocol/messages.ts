/**
 * Messages exchanged between portal and agents (and between the portal and its in-process `local` node).
 * Each message has a zod schema so that both ends validate what they receive; types are inferred from them.
 */
import { z } from 'zod';
import { envNameSchema, stepSchema } from '../runbook/schema';

export const helloSchema = z.object({
  node: z.string(),
  hostname: z.string(),
  labels: z.record(z.string(), z.string()),
  version: z.string(),
  running: z.array(z.string()).default([]),
  /** When the agent sent it (ms): the portal refuses a signed hello replayed much later. */
  sentAt: z.number(),
});
export type Hello = z.infer<typeof helloSchema>;

export const helloReplySchema = z.union([
  z.object({ ok: z.literal(true), portalKey: z.string(), heartbeatMs: z.number().int().positive() }),
  z.object({ ok: z.literal(false), reason: z.string() }),
]);
export type HelloReply = z.infer<typeof helloReplySchema>;

export const heartbeatSchema = z.object({
  node: z.string(),
  running: z.array(z.string()),
  sentAt: z.number(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

/** A step as a node receives it: `{ secret: name }` env values already replaced by the secret's value. */
export const planStepSchema = stepSchema.extend({ env: z.record(envNameSchema, z.string()).optional() });
export type PlanStep = z.infer<typeof planStepSchema>;

/**
 * What one node must do for one execution: its steps (a DAG), the steps to run when they fail, the environment,
 * and `secrets`: the values (from stored secrets and secret parameters) the node must mask in everything it reports.
 */
export const nodePlanSchema = z.object({
  steps: z.array(planStepSchema),
  onFailure: z.array(planStepSchema).default([]),
  env: z.record(z.string(), z.string()),
  secrets: z.array(z.string()).default([]),
  timeoutMs: z.number().int().positive().optional(),
});
export type NodePlan = z.infer<typeof nodePlanSchema>;

export const dispatchOrderSchema = z.object({
  type: z.literal('dispatch'),
  executionId: z.string(),
  nodeRunId: z.string(),
  node: z.string(),
  plan: nodePlanSchema,
});
export type DispatchOrder = z.infer<typeof dispatchOrderSchema>;

/** Text encrypted to one node's X25519 key (see identity.ts): only that node can read it. */
export const sealedSchema = z.object({
  /** The sender's one-time X25519 public key. */
  epk: z.string(),
  iv: z.string(),
  /** AES-256-GCM ciphertext followed by its 16-byte tag. */
  data: z.string(),
});
export type Sealed = z.infer<typeof sealedSchema>;

/**
 * A dispatch order as it crosses NATS: the plan (commands, parameters, secret values) sealed to the target node's
 * X25519 key, so that another node or any NATS client that receives it learns nothing secret.
 */
export const sealedDispatchOrderSchema = dispatchOrderSchema.omit({ plan: true }).extend({ sealedPlan: sealedSchema });
export type SealedDispatchOrder = z.infer<typeof sealedDispatchOrderSchema>;

export const cancelOrderSchema = z.object({
  type: z.literal('cancel'),
  nodeRunId: z.string(),
  node: z.string(),
  reason: z.string(),
});
export type CancelOrder = z.infer<typeof cancelOrderSchema>;

/** What a signed envelope carries to an agent. */
export const orderSchema = z.discriminatedUnion('type', [sealedDispatchOrderSchema, cancelOrderSchema]);
export type Order = z.infer<typeof orderSchema>;

export const dispatchReplySchema = z.union([
  z.object({ accepted: z.literal(true) }),
  z.object({ accepted: z.literal(false), reason: z.string() }),
]);
export type DispatchReply = z.infer<typeof dispatchReplySchema>;

export const stepStatusSchema = z.enum(['succeeded', 'failed', 'timed_out', 'cancelled', 'skipped']);
export type StepStatus = z.infer<typeof stepStatusSchema>;

export const nodeOutcomeSchema = z.enum(['succeeded', 'failed', 'timed_out', 'cancelled']);
export type NodeOutcome = z.infer<typeof nodeOutcomeSchema>;

const eventBase = { nodeRunId: z.string(), seq: z.number().int().nonnegative(), at: z.number() };

/** Events a node emits while running its plan; `seq` orders them per NodeRun and makes redelivery harmless. */
export const nodeEventSchema = z.discriminatedUnion('type', [
  z.object({ ...eventBase, type: z.literal('step.started'), stepId: z.string(), attempt: z.number().int() }),
  z.object({
    ...eventBase,
    type: z.literal('step.log'),
    stepId: z.string(),
    attempt: z.number().int(),
    stream: z.enum(['stdout', 'stderr', 'system']),
    data: z.string(),
  }),
  z.object({
    ...eventBase,
    type: z.literal('step.finished'),
    stepId: z.string(),
    attempt: z.number().int(),
    status: stepStatusSchema,
    exitCode: z.number().int().nullable(),
    outputs: z.record(z.string(), z.string()),
    error: z.string().optional(),
  }),
  z.object({ ...eventBase, type: z.literal('node.finished'), status: nodeOutcomeSchema, reason: z.string().optional() }),
]);
export type NodeEvent = z.infer<typeof nodeEventSchema>;
/** An event before the emitter stamps it with its sequence number and time. */
export type NodeEventDraft = NodeEvent extends infer E ? (E extends NodeEvent ? Omit<E, 'seq' | 'at' | 'nodeRunId'> : never) : never;
