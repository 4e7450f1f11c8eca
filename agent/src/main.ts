/**
 * `baton-agent --name web-7 --labels role=web --portal https://portal:3000 --enroll-token <token>` (or `npm run
 * agent -- ...` in the repository): starts one agent. At first start it creates its keys in the state directory,
 * prints its fingerprint and enrolls; it waits until an admin (or the token) accepts it, then connects to NATS
 * with the credentials the portal issued. Later starts reuse the keys and need no token.
 * Every flag has an environment variable: BATON_AGENT_NAME, BATON_AGENT_LABELS, BATON_PORTAL_URL,
 * BATON_ENROLL_TOKEN, BATON_STATE_DIR, NATS_URL, BATON_PORTAL_KEY, BATON_LOG_LEVEL.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_NAME_PATTERN } from '@baton/shared';
import { fingerprint } from '@baton/shared/node';
import { Agent } from './agent';
import { parseLabels } from './labels';
import { createLogger } from './log';
import { AgentRefusedError, PortalClient } from './portal-client';
import { AgentState } from './state';

const USAGE = `usage: baton-agent --portal URL [--enroll-token TOKEN] [--name NAME] [--labels k=v,...] [--state-dir DIR] [--nats URL]`;
const ACCEPTANCE_POLL_MS = 2000;
const STOP_GRACE_MS = 2000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      labels: { type: 'string' },
      portal: { type: 'string' },
      'enroll-token': { type: 'string' },
      'state-dir': { type: 'string' },
      nats: { type: 'string' },
      'portal-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const env = process.env;
  const name = values.name ?? env.BATON_AGENT_NAME ?? hostname().split('.')[0];
  if (!NODE_NAME_PATTERN.test(name)) {
    throw new Error(`node name "${name}" must be letters, digits, "-" or "_" (at most 63), starting with a letter or digit`);
  }
  const portalUrl = values.portal ?? env.BATON_PORTAL_URL;
  if (!portalUrl) throw new Error(`--portal (or BATON_PORTAL_URL) is required: the portal's URL, e.g. https://portal:3000\n${USAGE}`);
  const labels = parseLabels(values.labels ?? env.BATON_AGENT_LABELS ?? '');
  const log = createLogger(`agent:${name}`, (env.BATON_LOG_LEVEL as 'info') ?? 'info');

  const stateDir = values['state-dir'] ?? env.BATON_STATE_DIR ?? defaultStateDir(name);
  const state = new AgentState(stateDir);
  const { keys, isNew } = state.open(name);
  process.stdout.write(
    `baton agent ${name}: identity ${keys.publicKey}\nfingerprint ${fingerprint(keys.publicKey)}${isNew ? ' (new key)' : ''}\n`,
  );

  const portal = new PortalClient(portalUrl, name, keys, log);
  if (!state.isEnrollmentSent) {
    const token = values['enroll-token'] ?? env.BATON_ENROLL_TOKEN;
    const { status } = await portal.enroll(token, labels);
    state.markEnrollmentSent();
    log.info({ status, fingerprint: portal.fingerprint }, 'enrollment sent');
  }
  let isStopping = false;
  const credentials = await portal
    .waitForAcceptance(ACCEPTANCE_POLL_MS, () => isStopping)
    .catch((err: Error) => {
      // The portal is down but the credentials kept from last time are still good: run with them, renew later.
      const cached = state.cachedCredentials();
      if (cached && !(err instanceof AgentRefusedError) && cached.expiresAt && Date.parse(cached.expiresAt) > Date.now()) return cached;
      throw err;
    });
  state.saveCredentials(credentials);

  const agent = new Agent({
    name,
    labels,
    keys,
    credentials,
    portal,
    onCredentials: (renewed) => state.saveCredentials(renewed),
    onRefused: (reason) => {
      process.stderr.write(`baton agent: ${reason}\n`);
      // A revoked agent's connection may never drain (the server cut it off): give stopping a moment, then go.
      const grace = new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref());
      void Promise.race([agent.stop(), grace]).finally(() => process.exit(1));
    },
    natsUrl: values.nats ?? env.NATS_URL,
    portalKey: values['portal-key'] ?? env.BATON_PORTAL_KEY,
    spoolFile: join(stateDir, 'spool.jsonl'),
    logger: log,
  });
  const shutdown = () => {
    isStopping = true;
    agent.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await agent.start();
}

/** Run from the repository (TypeScript sources): under ./.baton; installed (the one file): /var/lib/baton-agent. */
function defaultStateDir(name: string): string {
  return __filename.endsWith('.ts') ? join(process.cwd(), '.baton', `agent-${name}`) : '/var/lib/baton-agent';
}

main().catch((err: Error) => {
  process.stderr.write(`baton agent: ${err.message}\n`);
  process.exit(1);
});
