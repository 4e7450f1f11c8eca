/**
 * Open-loop load from its own process (as the issue asks: the generator must not share the portal's event loop):
 * `load-generator.ts <portalUrl> <token> <runbook> <rate/s> <seconds>` sends run requests at a fixed rate whatever the
 * answers, and prints one JSON line: how many were sent, the statuses, API latencies of the 201s, the accepted ids.
 */
import { Agent, request } from 'node:http';

/** One POST with a keep-alive connection from the pool; resolves with the status and the parsed body. */
function post(agent: Agent, url: URL, token: string): Promise<{ status: number; body: { id?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

async function main(): Promise<void> {
  const [url, token, runbook, rateText, secondsText] = process.argv.slice(2);
  const rate = Number(rateText);
  const seconds = Number(secondsText);
  // Enough keep-alive connections that a slow answer does not hold the next request back (open loop).
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(`${url}/api/v1/runbooks/${runbook}/executions`);
  const statuses: Record<string, number> = {};
  const latencies201: number[] = [];
  const ids: string[] = [];
  const inFlight: Promise<void>[] = [];
  const total = Math.round(rate * seconds);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const sentAt = performance.now();
    inFlight.push(
      post(agent, target, token)
        .then(({ status, body }) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 201 && body.id) {
            latencies201.push(performance.now() - sentAt);
            ids.push(body.id);
          }
        })
        .catch((err) => {
          const key = `error: ${String(err).slice(0, 60)}`;
          statuses[key] = (statuses[key] ?? 0) + 1;
        }),
    );
  }
  await Promise.all(inFlight);
  agent.destroy();
  process.stdout.write(JSON.stringify({ sent: total, statuses, latencies201, ids, wallMs: performance.now() - started }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`load-generator: ${err}\n`);
  process.exit(1);
});
