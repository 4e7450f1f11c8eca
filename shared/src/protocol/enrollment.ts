/**
 * Enrollment over HTTP, before an agent has NATS credentials: the request an agent sends with its public keys
 * (and a token), and the credentials reply it polls for until an admin (or the token) accepts it. Both requests
 * carry the agent's signature of their body, so only the holder of the identity key can enroll or renew it.
 */
import { z } from 'zod';
import { NODE_NAME_PATTERN } from './subjects';

const nodeName = z.string().regex(NODE_NAME_PATTERN, 'must be letters, digits, "-" or "_" (at most 63), starting with a letter or digit');
const labels = z.record(
  z.string().regex(/^[A-Za-z0-9_./-]{1,63}$/, 'label keys are letters, digits, "_", ".", "/" or "-"'),
  z.string().max(253),
);

export const enrollRequestSchema = z.object({
  name: nodeName,
  /** NKey user public key (`U...`): the agent's identity and the subject of its NATS credentials. */
  publicKey: z.string(),
  /** X25519 public key (base64): dispatch plans are sealed to it. */
  boxPublicKey: z.string(),
  labels: labels.default({}),
  hostname: z.string().max(253).optional(),
  /** Enrollment token; may be left out only when the portal runs with BATON_AUTO_ACCEPT=true. */
  token: z.string().max(200).optional(),
  sentAt: z.number(),
});
export type EnrollRequest = z.infer<typeof enrollRequestSchema>;

export const credentialsRequestSchema = z.object({ name: nodeName, sentAt: z.number() });
export type CredentialsRequest = z.infer<typeof credentialsRequestSchema>;

export const AGENT_STATUSES = ['pending', 'accepted', 'rejected', 'revoked'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const credentialsReplySchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('pending'), fingerprint: z.string() }),
  z.object({
    status: z.literal('accepted'),
    fingerprint: z.string(),
    /** Where to connect; absent when the portal itself has no NATS. */
    natsUrl: z.string().optional(),
    subjectPrefix: z.string(),
    /** The portal's dispatch signing key (base64 SPKI), fetched over the portal's HTTPS. */
    portalKey: z.string(),
    /** A user JWT for NATS operator mode, or null on a server without decentralized authentication. */
    jwt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    labels: z.record(z.string(), z.string()),
  }),
]);
export type CredentialsReply = z.infer<typeof credentialsReplySchema>;
export type AcceptedCredentials = Extract<CredentialsReply, { status: 'accepted' }>;

/** How far an agent's clock may be from the portal's before a signed request is refused as stale. */
export const SIGNED_REQUEST_MAX_AGE_MS = 5 * 60_000;
