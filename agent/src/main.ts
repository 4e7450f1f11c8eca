/**
 * `npm run agent -- --name web-1 --labels role=web,env=dev`: starts one agent. Every flag has an environment
 * variable (BATON_AGENT_NAME, BATON_AGENT_LABELS, NATS_URL, BATON_PORTAL_KEY, BATON_SUBJECT_PREFIX, BATON_SPOOL_DIR).
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_NAME_PATTERN } from '@baton/shared';
import { Agent } from './agent';
import { parseLabels } from './labels';
import { createLogger } from './log';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      labels: { type: 'string' },
      nats: { type: 'string' },
      'portal-key': { type: 'string' },
      prefix: { type: 'string' },
      'spool-dir': { type: 'string' },
    },
  });
  const env = process.env;
  const name = values.name ?? env.BATON_AGENT_NAME ?? hostname().split('.')[0];
  if (!NODE_NAME_PATTERN.test(name)) {
    throw new Error(`node name "${name}" must be letters, digits, "-" or "_" (at most 63), starting with a letter or digit`);
  }
  const spoolDir = values['spool-dir'] ?? env.BATON_SPOOL_DIR ?? join(process.cwd(), '.baton', 'spool');
  mkdirSync(spoolDir, { recursive: true });
  const agent = new Agent({
    name,
    labels: parseLabels(values.labels ?? env.BATON_AGENT_LABELS ?? ''),
    natsUrl: values.nats ?? env.NATS_URL ?? 'nats://127.0.0.1:4222',
    portalKey: values['portal-key'] ?? env.BATON_PORTAL_KEY,
    subjectPrefix: values.prefix ?? env.BATON_SUBJECT_PREFIX,
    spoolFile: join(spoolDir, `${name}.jsonl`),
    natsUser: env.NATS_USER,
    natsPassword: env.NATS_PASSWORD,
    natsToken: env.NATS_TOKEN,
    logger: createLogger(`agent:${name}`, (env.BATON_LOG_LEVEL as 'info') ?? 'info'),
  });
  const shutdown = () => {
    agent.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await agent.start();
}

main().catch((err: Error) => {
  process.stderr.write(`baton agent: ${err.message}\n`);
  process.exit(1);
});
