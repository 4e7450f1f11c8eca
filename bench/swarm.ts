/**
 * A swarm of agents in one process (as SaltStack's minion swarm): each has its own NATS connection and the real
 * executor. Usage: swarm.ts <count> <subject prefix> <labels>. Prints "ready" once all have registered.
 */
import { Agent } from '../agent/src/agent';
import { parseLabels } from '../agent/src/labels';
import { createLogger } from '../agent/src/log';

async function main(): Promise<void> {
  const [count, prefix, labels] = process.argv.slice(2);
  const agents = Array.from({ length: Number(count) }, (_, i) => {
    const name = `swarm-${String(i).padStart(3, '0')}`;
    return new Agent({ name, labels: parseLabels(labels), subjectPrefix: prefix, logger: createLogger(name, 'silent') });
  });
  await Promise.all(agents.map((a) => a.start()));
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void Promise.all(agents.map((a) => a.stop())).finally(() => process.exit(0)));
}

main().catch((err) => {
  process.stderr.write(`swarm: ${err}\n`);
  process.exit(1);
});
