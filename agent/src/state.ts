/**
 * What the agent keeps in its state directory, all mode 0600: its keys (created at first start, reused after),
 * whether it has sent its enrollment, and the last credentials the portal issued (so that a restart while the
 * portal is down still connects, as long as they are valid).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { credentialsReplySchema, type AcceptedCredentials } from '@baton/shared';
import { generateAgentKeys, type AgentKeys } from '@baton/shared/node';

const identitySchema = z.object({
  name: z.string(),
  seed: z.string(),
  publicKey: z.string(),
  boxPrivateKey: z.string(),
  boxPublicKey: z.string(),
  isEnrollmentSent: z.boolean().default(false),
});
type Identity = z.infer<typeof identitySchema>;

export class AgentState {
  private identity!: Identity;

  constructor(private readonly dir: string) {}

  /** Loads the keys, or creates them on first start. Refuses a state directory that belongs to another node name. */
  open(name: string): { keys: AgentKeys; isNew: boolean } {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.file('identity.json');
    if (existsSync(file)) {
      this.identity = identitySchema.parse(JSON.parse(readFileSync(file, 'utf8')));
      if (this.identity.name !== name) {
        throw new Error(`state directory ${this.dir} holds the identity of node "${this.identity.name}", not "${name}"`);
      }
      return { keys: this.identity, isNew: false };
    }
    this.identity = { name, ...generateAgentKeys(), isEnrollmentSent: false };
    this.write('identity.json', this.identity);
    return { keys: this.identity, isNew: true };
  }

  get isEnrollmentSent(): boolean {
    return this.identity.isEnrollmentSent;
  }

  markEnrollmentSent(): void {
    this.identity.isEnrollmentSent = true;
    this.write('identity.json', this.identity);
  }

  /** The last accepted credentials, if any were kept. */
  cachedCredentials(): AcceptedCredentials | undefined {
    const file = this.file('credentials.json');
    if (!existsSync(file)) return undefined;
    const parsed = credentialsReplySchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success && parsed.data.status === 'accepted' ? parsed.data : undefined;
  }

  saveCredentials(credentials: AcceptedCredentials): void {
    this.write('credentials.json', credentials);
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  private write(name: string, value: unknown): void {
    const tmp = this.file(`${name}.tmp`);
    writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file(name)); // atomic: a crash leaves the old file or the new one
  }
}
