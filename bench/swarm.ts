/**
 * A swarm of agents in one process (as SaltStack's minion swarm). Each agent makes its own keys (in memory, no
 * state directory), enrolls with the portal over HTTP, waits for acceptance, then connects to the NATS server the
 * portal names with the credentials it issued, and runs steps with the real executor.
 *
 * Usage: swarm.ts <count> <portal URL> <labels> [enrollment token, "-" for none] [name prefix, default "swarm"]
 * Agents are named <prefix>-000, <prefix>-001, ... Without a token the portal must run with BATON_AUTO_ACCEPT=true.
 * All enroll at once, as a fleet brought up by one command does; SWARM_ENROLL_CONCURRENCY=n lets only n enroll at a time.
 * Prints one `timing {...}` line (milliseconds since this process started), then "ready" once every agent has
 * registered. SIGTERM stops them all.
 */
import { generateAgentKeys } from '@baton/shared/node';
import { Agent } from '../agent/src/agent';
import { parseLabels } from '../agent/src/labels';
import { createLogger } from '../agent/src/log';
import { PortalClient } from '../agent/src/portal-client';

const ACCEPTANCE_POLL_MS = 500;

export interface SwarmTiming {
  /** Node, SWC and the agent's modules loaded: the swarm's own start-up, before any agent exists. */
  loadedMs: number;
  /** The last agent holds its credentials (keys made, enrolled, accepted). */
  acceptedMs: number;
  /** The last agent has connected and the portal answered its hello. */
  readyMs: number;
}

async function main(): Promise<void> {
  const loadedMs = performance.now();
  const [count, portalUrl, labelText, token, namePrefix = 'swarm'] = process.argv.slice(2);
  if (!Number(count) || !portalUrl) throw new Error('usage: swarm.ts <count> <portal URL> <labels> [token|-] [name prefix]');
  const labels = parseLabels(labelText ?? '');
  const enrollToken = token && token !== '-' ? token : undefined;
  // One silent logger for all: a swarm agent is as cheap as the real agent allows.
  const logger = createLogger('swarm', 'silent');
  const enrollSlots = new Slots(Number(process.env.SWARM_ENROLL_CONCURRENCY) || Infinity);
  const agents: Agent[] = [];
  process.on('SIGTERM', () => void Promise.all(agents.map((a) => a.stop())).finally(() => process.exit(0)));

  let acceptedMs = 0;
  /** What each agent is doing, for the message when one fails. */
  const phases = new Map<string, string>();
  const startOne = async (name: string): Promise<void> => {
    phases.set(name, 'making keys');
    const keys = generateAgentKeys();
    const portal = new PortalClient(portalUrl, name, keys, logger);
    const credentials = await enrollSlots.run(async () => {
      phases.set(name, 'enrolling');
      await portal.enroll(enrollToken, labels);
      phases.set(name, 'asking for credentials');
      return portal.waitForAcceptance(ACCEPTANCE_POLL_MS);
    });
    phases.set(name, 'connecting and saying hello');
    acceptedMs = Math.max(acceptedMs, performance.now());
    const agent = new Agent({ name, labels, keys, credentials, portal, onRefused: (reason) => fail(`${name}: ${reason}`), logger });
    agents.push(agent);
    await agent.start();
  };
  const started: Promise<void>[] = [];
  for (let i = 0; i < Number(count); i++) {
    const name = `${namePrefix}-${String(i).padStart(3, '0')}`;
    started.push(startOne(name).catch((err: Error) => fail(`${name}, ${phases.get(name)}: ${err.message}`)));
    // Making an agent's keys takes milliseconds of CPU: yield between agents so that replies to the requests already
    // sent are read, or the first requests time out while the last agents' keys are made.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(started);

  const timing: SwarmTiming = { loadedMs: round(loadedMs), acceptedMs: round(acceptedMs), readyMs: round(performance.now()) };
  process.stdout.write(`timing ${JSON.stringify(timing)}\nready\n`);
}

/** At most `size` tasks at a time; the others wait their turn in order. */
class Slots {
  private busy = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.busy >= this.size) await new Promise<void>((r) => this.waiting.push(r));
    else this.busy++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.busy--;
    }
  }
}

function round(ms: number): number {
  return Math.round(ms);
}

function fail(message: string): never {
  process.stderr.write(`swarm: ${message}\n`);
  process.exit(1);
}

main().catch((err: Error) => fail(err.message));
