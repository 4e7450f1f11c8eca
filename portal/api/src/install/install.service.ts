/**
 * The one-file agent the portal hands out (config `fleet.agentBinary`, built by `npm run build:agent`) with its
 * SHA-256, and the install script that fetches it. The systemd unit is read once at start from
 * deploy/systemd/baton-agent.service, so the script and the file operators install by hand never differ.
 */
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { readFileSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { BATON_CONFIG, type BatonConfig } from '../core/config';
import { elfArch, renderAgentInstallScript } from './install-script';

const AGENT_UNIT_FILE = join(__dirname, '..', '..', '..', '..', 'deploy', 'systemd', 'baton-agent.service');

export interface AgentBinary {
  /** The bytes, read from the same open file the checksum was computed on (a rebuild renames a new file in). */
  stream: Readable;
  bytes: number;
  sha256: string;
  /** `uname -m` of the machines it runs on, when it is an ELF executable this portal recognises. */
  arch?: string;
}

@Injectable()
export class InstallService {
  private readonly agentUnit = readFileSync(AGENT_UNIT_FILE, 'utf8');
  /** The last file hashed: hashing ~100 MB for every download or script would be wasteful. */
  private lastHashed?: { key: string; sha256: string; arch?: string };

  constructor(@Inject(BATON_CONFIG) private readonly config: BatonConfig) {}

  /** Opens the agent binary; 404 with what to do when it has not been built. The caller must consume `stream`. */
  async openAgentBinary(): Promise<AgentBinary> {
    const file = await this.openBuiltFile();
    try {
      const stats = await file.stat();
      if (!stats.isFile()) throw this.notBuilt();
      const { sha256, arch } = await this.describe(file, stats);
      return { stream: file.createReadStream({ start: 0 }), bytes: stats.size, sha256, arch };
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  /** The install script for agents of a portal at `portalUrl`. */
  async agentInstallScript(portalUrl: string): Promise<string> {
    const file = await this.openBuiltFile();
    try {
      const stats = await file.stat();
      if (!stats.isFile()) throw this.notBuilt();
      const { sha256, arch } = await this.describe(file, stats);
      return renderAgentInstallScript({ portalUrl, sha256, arch, unit: this.agentUnit });
    } finally {
      await file.close();
    }
  }

  private async openBuiltFile(): Promise<FileHandle> {
    try {
      return await open(resolve(this.config.fleet.agentBinary), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw this.notBuilt();
      throw err;
    }
  }

  private async describe(file: FileHandle, stats: Stats): Promise<{ sha256: string; arch?: string }> {
    const key = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    if (this.lastHashed?.key === key) return this.lastHashed;
    const hash = createHash('sha256');
    for await (const chunk of file.createReadStream({ start: 0, autoClose: false })) hash.update(chunk as Buffer);
    const header = Buffer.alloc(20);
    await file.read(header, 0, header.length, 0);
    this.lastHashed = { key, sha256: hash.digest('hex'), arch: elfArch(header) };
    return this.lastHashed;
  }

  private notBuilt(): NotFoundException {
    return new NotFoundException('the agent binary is not built: run npm run build:agent');
  }
}
