/**
 * Configuration: environment variables read and validated once at start (see the table in README.md).
 * Nothing else reads process.env; tests build a config with `parseConfig({...})`.
 */
import { z } from 'zod';
import { DEFAULT_EVENT_STREAM, DEFAULT_SUBJECT_PREFIX, isDuration, parseDuration } from '@baton/shared';
import { parseGrant, type RoleMap } from '../auth/oidc/oidc-roles';

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1'));

/** A 256-bit key written as 64 hex characters or as base64 of 32 bytes. */
const masterKey = z
  .string()
  .transform((text, ctx) => {
    const key = parseMasterKey(text);
    if (!key) ctx.addIssue({ code: 'custom', message: 'must be 32 bytes as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)' });
    return key ?? Buffer.alloc(0);
  })
  .optional();

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().url().optional(),
  NATS_URL: z.string().optional(),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  NATS_TOKEN: z.string().optional(),
  NATS_CREDS: z.string().optional(),
  BATON_NATS_ACCOUNT_SIGNING_SEED: z
    .string()
    .regex(/^SA[A-Z2-7]{56}$/, 'must be an account signing key seed (SA...)')
    .optional(),
  BATON_NATS_ACCOUNT_JWT: z.string().optional(),
  BATON_NATS_OPERATOR_SIGNING_SEED: z
    .string()
    .regex(/^SO[A-Z2-7]{56}$/, 'must be an operator signing key seed (SO...)')
    .optional(),
  BATON_NATS_SYSTEM_CREDS: z.string().optional(),
  BATON_AGENT_NATS_URL: z.string().optional(),
  BATON_AGENT_CREDENTIALS_TTL: z
    .string()
    .refine((v) => isDuration(v) && parseDuration(v) >= 10_000, 'must be a duration of at least 10s, such as 24h')
    .default('24h'),
  BATON_AUTO_ACCEPT: flag(false),
  BATON_PUBLIC_URL: z.string().url().optional(),
  BATON_AGENT_BINARY: z.string().default('dist/agent/baton-agent'),
  BATON_QUEUE_LIMIT: z.coerce.number().int().min(1).default(1000),
  BATON_MAX_RUNNING: z.coerce.number().int().min(1).default(64),
  BATON_NODE_MAX_RUNS: z.coerce.number().int().min(0).default(0),
  BATON_QUEUE_TIMEOUT: z.string().refine(isDuration, 'must be a duration such as 30m or 1h').default('1h'),
  BATON_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'must be a size such as 100kb or 1mb')
    .default('100kb'),
  BATON_HOOK_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'must be a size such as 5mb')
    .default('5mb'),
  BATON_DATA_DIR: z.string().default('.baton'),
  RUNBOOKS_DIR: z.string().default('runbooks'),
  BATON_RUNBOOKS_WATCH: flag(true),
  BATON_LOCAL_NODE: flag(true),
  BATON_HOOK_WORKER: flag(true),
  BATON_ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  BATON_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  BATON_MASTER_KEY: masterKey,
  BATON_JWT_TTL: z.string().refine(isDuration, 'must be a duration such as 15m or 1h').default('15m'),
  BATON_REFRESH_TTL: z.string().refine(isDuration, 'must be a duration such as 12h or 7d').default('7d'),
  BATON_CORS_ORIGINS: z.string().optional(),
  BATON_TRUST_PROXY: z.string().optional(),
  BATON_SUBJECT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default(DEFAULT_SUBJECT_PREFIX),
  BATON_EVENT_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default(DEFAULT_EVENT_STREAM),
  BATON_HEARTBEAT_MS: z.coerce.number().int().min(100).default(5000),
  BATON_DISPATCH_TIMEOUT_MS: z.coerce.number().int().min(100).default(3000),
  BATON_DEFAULT_TIMEOUT: z.string().refine(isDuration, 'must be a duration such as 30m or 1h').default('1h'),
  BATON_RETENTION: z
    .string()
    .refine((v) => v === 'forever' || (isDuration(v) && parseDuration(v) >= 3_600_000), 'must be a duration of at least 1h, or forever')
    .default('90d'),
  BATON_SSH_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(50),
  BATON_SSH_MAX_SESSIONS: z.coerce.number().int().min(2).default(10),
  BATON_SSH_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  BATON_SSH_CHECK_MS: z.coerce.number().int().min(100).default(30_000),
  BATON_WEB_DIR: z.string().optional(),
  BATON_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  BATON_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  BATON_OIDC_ISSUER: z.string().optional(),
  BATON_OIDC_CLIENT_ID: z.string().min(1).optional(),
  BATON_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  BATON_OIDC_REDIRECT_URL: z.string().optional(),
  BATON_OIDC_SCOPES: z
    .string()
    .default('openid profile email')
    .refine((s) => s.split(/\s+/).includes('openid'), 'must include openid'),
  BATON_OIDC_ROLES_CLAIM: z.string().min(1).default('roles'),
  BATON_OIDC_ROLE_MAP: z.string().optional(),
  BATON_OIDC_USERNAME_CLAIM: z.string().min(1).default('preferred_username'),
});

type Env = z.infer<typeof envSchema>;

/** An agent or a portal replica is gone after this many BATON_HEARTBEAT_MS intervals of silence. */
export const MISSED_HEARTBEATS = 3;

/** Where the portal receives the identity provider's answer (see auth/oidc/oidc.controller.ts). */
export const OIDC_CALLBACK_PATH = '/api/v1/auth/oidc/callback';

export type BatonConfig = ReturnType<typeof parseConfig>;

/** Validates the environment; an invalid value stops the portal with a message naming the variable. */
export function parseConfig(env: Record<string, string | undefined>) {
  const result = envSchema.superRefine(checkOidc).superRefine(checkFleet).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  const e = result.data;
  return {
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    nats: e.NATS_URL
      ? { url: e.NATS_URL, user: e.NATS_USER, password: e.NATS_PASSWORD, token: e.NATS_TOKEN, credsFile: e.NATS_CREDS }
      : undefined,
    fleet: {
      /** Accept every enrollment without a token (Salt's auto_accept): for a laptop only, warned about at every start. */
      isAutoAcceptOn: e.BATON_AUTO_ACCEPT,
      /** The NATS URL agents are told to use (the portal's own by default). */
      agentNatsUrl: e.BATON_AGENT_NATS_URL ?? e.NATS_URL,
      credentialsTtlMs: parseDuration(e.BATON_AGENT_CREDENTIALS_TTL),
      /** NATS decentralized authentication (operator mode), written by `npm run nats:setup`; undefined on a plain server. */
      natsAuthority: e.BATON_NATS_ACCOUNT_SIGNING_SEED
        ? {
            accountSigningSeed: e.BATON_NATS_ACCOUNT_SIGNING_SEED,
            accountJwt: e.BATON_NATS_ACCOUNT_JWT!,
            operatorSigningSeed: e.BATON_NATS_OPERATOR_SIGNING_SEED,
            systemCredsFile: e.BATON_NATS_SYSTEM_CREDS,
          }
        : undefined,
      /** The one-file agent served at GET /install/baton-agent. */
      agentBinary: e.BATON_AGENT_BINARY,
    },
    /** The portal's address as agents and browsers reach it (install script); the request's own when unset. */
    publicUrl: e.BATON_PUBLIC_URL,
    queue: {
      /** Queued executions (all replicas) past which new runs get 429. */
      limit: e.BATON_QUEUE_LIMIT,
      /** Executions one replica drives at once; the rest wait `queued`. */
      maxRunning: e.BATON_MAX_RUNNING,
      /** Simultaneous node runs per node; 0 for no cap. */
      nodeMaxRuns: e.BATON_NODE_MAX_RUNS,
      /** A queued execution not started within this ends `failed`: nothing stays queued forever. */
      timeoutMs: parseDuration(e.BATON_QUEUE_TIMEOUT),
    },
    bodyLimit: e.BATON_BODY_LIMIT,
    hookBodyLimit: e.BATON_HOOK_BODY_LIMIT,
    dataDir: e.BATON_DATA_DIR,
    runbooksDir: e.RUNBOOKS_DIR,
    /** Whether RUNBOOKS_DIR is watched: a changed file is loaded again without a restart. */
    isRunbooksWatchEnabled: e.BATON_RUNBOOKS_WATCH,
    isLocalNodeEnabled: e.BATON_LOCAL_NODE,
    /** Whether this replica processes stored hook deliveries (off: it only receives and stores them). */
    isHookWorkerEnabled: e.BATON_HOOK_WORKER,
    adminPassword: e.BATON_ADMIN_PASSWORD,
    jwtSecret: e.BATON_JWT_SECRET,
    masterKey: e.BATON_MASTER_KEY,
    jwtTtl: e.BATON_JWT_TTL,
    refreshTtl: e.BATON_REFRESH_TTL,
    /** Origins allowed to call the API from a browser; none (CORS closed) unless configured. */
    corsOrigins: e.BATON_CORS_ORIGINS
      ? e.BATON_CORS_ORIGINS.split(',')
          .map((o) => o.trim())
          .filter(Boolean)
      : [],
    /** Express `trust proxy`: set behind a reverse proxy so that client addresses (throttling, audit) are the real ones. */
    trustProxy: e.BATON_TRUST_PROXY,
    subjectPrefix: e.BATON_SUBJECT_PREFIX,
    eventStream: e.BATON_EVENT_STREAM,
    heartbeatMs: e.BATON_HEARTBEAT_MS,
    dispatchTimeoutMs: e.BATON_DISPATCH_TIMEOUT_MS,
    defaultTimeout: e.BATON_DEFAULT_TIMEOUT,
    /** Records older than this are deleted (see retention/); undefined keeps them forever. */
    retentionMs: e.BATON_RETENTION === 'forever' ? undefined : parseDuration(e.BATON_RETENTION),
    ssh: {
      /** Open SSH connections to nodes at once (one per running node run); further node runs wait for a slot. */
      maxConnections: e.BATON_SSH_MAX_CONNECTIONS,
      /** Sessions a node's sshd allows per connection (its MaxSessions): one is kept for stopping steps. */
      maxSessions: e.BATON_SSH_MAX_SESSIONS,
      /** Bound on TCP connect, key exchange and authentication, per hop. */
      connectTimeoutMs: e.BATON_SSH_CONNECT_TIMEOUT_MS,
      /** How often the reachability of SSH nodes is checked (TCP connect and SSH banner). */
      checkIntervalMs: e.BATON_SSH_CHECK_MS,
    },
    webDir: e.BATON_WEB_DIR,
    logLevel: e.BATON_LOG_LEVEL,
    /** Readable lines or JSON; unset: readable on a terminal, JSON otherwise (files, pipes, log collectors). */
    logFormat: e.BATON_LOG_FORMAT,
    oidc: oidcConfig(e),
  };
}

/** The key bytes of a BATON_MASTER_KEY (or master.key file) text, or undefined when it is not a 256-bit key. */
export function parseMasterKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === 32 ? key : undefined;
}

export type OidcConfig = NonNullable<ReturnType<typeof oidcConfig>>;

/** Single sign-on settings, or undefined when BATON_OIDC_ISSUER is unset (SSO off). Checked by `checkOidc`. */
function oidcConfig(e: Env) {
  if (!e.BATON_OIDC_ISSUER) return undefined;
  return {
    issuer: new URL(e.BATON_OIDC_ISSUER),
    clientId: e.BATON_OIDC_CLIENT_ID!,
    clientSecret: e.BATON_OIDC_CLIENT_SECRET,
    redirectUrl: new URL(e.BATON_OIDC_REDIRECT_URL!),
    scopes: e.BATON_OIDC_SCOPES.trim().split(/\s+/).join(' '),
    rolesClaim: e.BATON_OIDC_ROLES_CLAIM,
    roleMap: e.BATON_OIDC_ROLE_MAP === undefined ? undefined : parseRoleMap(e.BATON_OIDC_ROLE_MAP).roleMap,
    usernameClaim: e.BATON_OIDC_USERNAME_CLAIM,
  };
}

/** The cross-field rules of single sign-on, reported like any other invalid variable. */
function checkFleet(e: Env, ctx: z.RefinementCtx): void {
  if (e.BATON_NATS_ACCOUNT_SIGNING_SEED && !e.BATON_NATS_ACCOUNT_JWT) {
    ctx.addIssue({
      code: 'custom',
      path: ['BATON_NATS_ACCOUNT_JWT'],
      message: 'required when BATON_NATS_ACCOUNT_SIGNING_SEED is set (npm run nats:setup writes both)',
    });
  }
}

function checkOidc(e: Env, ctx: z.RefinementCtx): void {
  if (!e.BATON_OIDC_ISSUER) return;
  const problem = (variable: keyof Env, message: string) => ctx.addIssue({ code: 'custom', path: [variable], message });
  const issuerProblem = urlProblem(e.BATON_OIDC_ISSUER);
  if (issuerProblem) problem('BATON_OIDC_ISSUER', issuerProblem);
  if (!e.BATON_OIDC_CLIENT_ID) problem('BATON_OIDC_CLIENT_ID', 'required when BATON_OIDC_ISSUER is set');
  if (!e.BATON_OIDC_REDIRECT_URL) {
    problem('BATON_OIDC_REDIRECT_URL', 'required when BATON_OIDC_ISSUER is set, e.g. https://baton.example.com/api/v1/auth/oidc/callback');
  } else {
    const redirectProblem = urlProblem(e.BATON_OIDC_REDIRECT_URL) ?? callbackPathProblem(e.BATON_OIDC_REDIRECT_URL);
    if (redirectProblem) problem('BATON_OIDC_REDIRECT_URL', redirectProblem);
  }
  if (e.BATON_OIDC_ROLE_MAP !== undefined) {
    const { error } = parseRoleMap(e.BATON_OIDC_ROLE_MAP);
    if (error) problem('BATON_OIDC_ROLE_MAP', error);
  }
}

/** Tokens and codes travel over these URLs: https, or plain http only on this machine (development, tests). */
function urlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `must be a URL (got "${text}")`;
  }
  const isLoopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback)) return undefined;
  return `must be an https URL (http only for localhost) (got "${text}")`;
}

/** The identity provider sends the browser back here, so it must be the portal's callback route. */
function callbackPathProblem(text: string): string | undefined {
  if (new URL(text).pathname.endsWith(OIDC_CALLBACK_PATH)) return undefined;
  return `must be the portal's URL followed by ${OIDC_CALLBACK_PATH} (got "${text}")`;
}

/** `{"sre":"admin","web-team":["operator:web","viewer"]}` -> grants per claim value, or the reason it is wrong. */
function parseRoleMap(text: string): { roleMap?: RoleMap; error?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { error: 'must be a JSON object such as {"sre":"admin","web-team":"operator:web"}' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { error: 'must be a JSON object such as {"sre":"admin","web-team":"operator:web"}' };
  }
  const roleMap: RoleMap = {};
  for (const [claimValue, target] of Object.entries(raw)) {
    const texts: unknown[] = Array.isArray(target) ? target : [target];
    roleMap[claimValue] = [];
    for (const grantText of texts) {
      const grant = typeof grantText === 'string' ? parseGrant(grantText) : undefined;
      if (!grant) {
        return {
          error: `"${claimValue}": ${JSON.stringify(grantText)} is not a role (viewer, operator, editor, auditor, admin), optionally as role:namespace`,
        };
      }
      roleMap[claimValue].push(grant);
    }
  }
  return { roleMap };
}

/** Injection token for the validated configuration. */
export const BATON_CONFIG = Symbol('BATON_CONFIG');
