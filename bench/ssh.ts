/**
 * The SSH part of `npm run bench`: `uptime` on SSH_NODES loopback sshd endpoints (several sshd instances, one
 * port per node) by Baton (API request -> every result stored in PostgreSQL), by parallel-ssh and by Ansible, on
 * the same targets with the same key, in the same run. Each tool gets one warm-up run; the best of three counts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ExecutionsService } from '../portal/api/src/executions/executions.service';
import type { Portal } from '../portal/api/test/harness';
import { generateKey, startSshdFleet } from '../portal/api/test/sshd-fixture';

const run = promisify(execFile);
export const SSH_NODES = Number(process.env.BENCH_SSH_NODES ?? 50);
const RUNS = 3;

export async function measureSsh(portal: Portal, waitForFinish: (e: ExecutionsService) => (id: string) => Promise<string>) {
  const dir = mkdtempSync(join(tmpdir(), 'baton-bench-ssh-'));
  const key = generateKey(dir, 'bench');
  const fleet = await startSshdFleet(SSH_NODES, [key.publicKey]);
  try {
    await portal.request('PUT', '/api/v1/secrets/bench.ssh-key', { value: key.privateKey });
    for (const [i, { port, hostKey }] of fleet.endpoints.entries()) {
      const res = await portal.request('POST', '/api/v1/nodes', {
        name: `ssh-${String(i).padStart(3, '0')}`,
        host: '127.0.0.1',
        port,
        user: 'root',
        keySecret: 'bench.ssh-key',
        hostKey,
        labels: { bench: 'ssh' },
      });
      if (res.status !== 201) throw new Error(`could not declare SSH node: ${res.status} ${res.text}`);
    }
    const executions = portal.app.get(ExecutionsService);
    const baton = await best(async () => {
      const finished = waitForFinish(executions);
      const id = await portal.run('bench.uptime', {});
      const status = await finished(id);
      const execution = await portal.request('GET', `/api/v1/executions/${id}`);
      const succeeded = execution.body.nodes.filter((n: { status: string }) => n.status === 'succeeded').length;
      if (status !== 'succeeded' || succeeded !== SSH_NODES)
        throw new Error(`baton: ${succeeded} of ${SSH_NODES} nodes succeeded (${status})`);
    });

    const sshOptions = `-i ${key.file} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes`;
    const hosts = join(dir, 'hosts');
    writeFileSync(hosts, fleet.endpoints.map((e) => `root@127.0.0.1:${e.port}`).join('\n') + '\n');
    const pssh = await best(async () => {
      await run('parallel-ssh', ['-h', hosts, '-p', String(SSH_NODES), '-t', '60', '-x', sshOptions, 'uptime']);
    });

    const inventory = join(dir, 'inventory');
    writeFileSync(
      inventory,
      fleet.endpoints
        .map((e, i) => `n${i} ansible_host=127.0.0.1 ansible_port=${e.port} ansible_user=root ansible_ssh_private_key_file=${key.file}`)
        .join('\n') + '\n',
    );
    const ansibleEnv = {
      ...process.env,
      ANSIBLE_HOST_KEY_CHECKING: 'False',
      ANSIBLE_SSH_ARGS: '-o UserKnownHostsFile=/dev/null -o ControlMaster=no',
      ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
      ANSIBLE_LOCAL_TEMP: join(dir, 'ansible-local'),
    };
    const ansible = await best(async () => {
      await run('ansible', ['all', '-i', inventory, '-m', 'shell', '-a', 'uptime', '-f', String(SSH_NODES)], { env: ansibleEnv });
    });
    return {
      nodes: SSH_NODES,
      batonMs: baton.bestMs,
      psshMs: pssh.bestMs,
      ansibleMs: ansible.bestMs,
      batonVsPssh: Math.round((baton.bestMs / pssh.bestMs) * 100) / 100,
      ansibleVsBaton: Math.round((ansible.bestMs / baton.bestMs) * 100) / 100,
      runsMs: { baton: baton.runsMs, pssh: pssh.runsMs, ansible: ansible.runsMs },
    };
  } finally {
    await Promise.all(fleet.instances.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function best(once: () => Promise<void>): Promise<{ bestMs: number; runsMs: number[] }> {
  await once(); // warm-up: caches, JIT, first connections
  const runsMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await once();
    runsMs.push(Math.round((performance.now() - started) * 100) / 100);
  }
  return { bestMs: Math.min(...runsMs), runsMs };
}
