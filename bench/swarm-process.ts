/** Starts bench/swarm.ts as its own process, as the benchmarks use it, and reads what it reports. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SwarmTiming } from './swarm';

const ROOT = join(__dirname, '..');

export interface SwarmOptions {
  /** The enrollment token; without one the portal must run with BATON_AUTO_ACCEPT=true. */
  token?: string;
  /** Agents are named <namePrefix>-000, <namePrefix>-001, ... */
  namePrefix: string;
  /** How many agents may enroll at the same time; all at once when not given. */
  enrollConcurrency?: number;
}

export interface Swarm {
  child: ChildProcess;
  /** Resolves once every agent has enrolled, connected and registered; rejects if the swarm exits first. */
  ready: Promise<SwarmTiming>;
}

/** The names the agents of a swarm take. */
export function swarmNames(namePrefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${namePrefix}-${String(i).padStart(3, '0')}`);
}

export function startSwarm(portalUrl: string, count: number, labels: string, options: SwarmOptions): Swarm {
  const child = spawn(
    process.execPath,
    [
      '-r',
      join(ROOT, 'scripts/register.js'),
      join(__dirname, 'swarm.ts'),
      String(count),
      portalUrl,
      labels,
      options.token ?? '-',
      options.namePrefix,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, SWARM_ENROLL_CONCURRENCY: options.enrollConcurrency ? String(options.enrollConcurrency) : '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const ready = new Promise<SwarmTiming>((resolve, reject) => {
    let output = '';
    let timing: SwarmTiming | undefined;
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const lines = output.split('\n');
      output = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('timing ')) timing = JSON.parse(line.slice('timing '.length)) as SwarmTiming;
        if (line === 'ready') resolve(timing!);
      }
    });
    child.once('exit', (code) => reject(new Error(`swarm exited with ${code}`)));
  });
  return { child, ready };
}

/**
 * The swarm's resident memory now and at its peak (MB), and the CPU time it has used (ms), as Linux reports them
 * (/proc/<pid>/status and stat).
 */
export function swarmUsage(child: ChildProcess): { rssMb: number; peakRssMb: number; cpuMs: number } {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  // utime and stime are the 14th and 15th fields, counted after the command name in parentheses.
  const [utime, stime] = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ').slice(11, 13).map(Number);
  const ticksPerSecond = 100; // USER_HZ, 100 on Linux
  return {
    rssMb: Math.round(kb('VmRSS') / 1024),
    peakRssMb: Math.round(kb('VmHWM') / 1024),
    cpuMs: Math.round(((utime + stime) * 1000) / ticksPerSecond),
  };
}
