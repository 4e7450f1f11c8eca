/**
 * The agent's HTTP(S) conversation with the portal before and besides NATS: enrollment with a token, and the
 * signed credentials request it polls until accepted and repeats to renew. A refusal (unknown, rejected, revoked,
 * bad token) is an `AgentRefusedError`: retrying would not help; a network error or a 5xx is worth retrying.
 */
import { hostname } from 'node:os';
import { credentialsReplySchema, type AcceptedCredentials, type CredentialsReply, type EnrollRequest } from '@baton/shared';
import {
  HTTP_SENT_AT_HEADER,
  HTTP_SIGNATURE_HEADER,
  IdentitySigner,
  credentialsSigningText,
  fingerprint,
  type AgentKeys,
} from '@baton/shared/node';
import type { AgentLogger } from './log';

export class AgentRefusedError extends Error {}

const REQUEST_TIMEOUT_MS = 10_000;

export class PortalClient {
  private readonly signer: IdentitySigner;

  constructor(
    private readonly portalUrl: string,
    private readonly name: string,
    private readonly keys: AgentKeys,
    private readonly log: AgentLogger,
  ) {
    this.signer = new IdentitySigner(keys.seed);
  }

  get fingerprint(): string {
    return fingerprint(this.keys.publicKey);
  }

  async enroll(token: string | undefined, labels: Record<string, string>): Promise<{ status: string }> {
    const request: EnrollRequest = {
      name: this.name,
      publicKey: this.keys.publicKey,
      boxPublicKey: this.keys.boxPublicKey,
      labels,
      hostname: hostname(),
      token,
      sentAt: Date.now(),
    };
    const body = JSON.stringify(request);
    return (await this.call(
      'POST',
      '/api/v1/agents/enroll',
      { 'content-type': 'application/json', [HTTP_SIGNATURE_HEADER]: this.signer.sign(body) },
      body,
    )) as {
      status: string;
    };
  }

  async credentials(): Promise<CredentialsReply> {
    const sentAt = Date.now();
    const body = await this.call('GET', `/api/v1/agents/${encodeURIComponent(this.name)}/credentials`, {
      [HTTP_SENT_AT_HEADER]: String(sentAt),
      [HTTP_SIGNATURE_HEADER]: this.signer.sign(credentialsSigningText(this.name, sentAt)),
    });
    const reply = credentialsReplySchema.safeParse(body);
    if (!reply.success) throw new Error(`the portal sent unreadable credentials: ${reply.error.issues[0]?.message}`);
    return reply.data;
  }

  /** Polls until the agent is accepted; a refusal ends the wait at once. */
  async waitForAcceptance(pollMs: number, isStopping: () => boolean = () => false): Promise<AcceptedCredentials> {
    let hasSaidPending = false;
    for (;;) {
      try {
        const reply = await this.credentials();
        if (reply.status === 'accepted') return reply;
        if (!hasSaidPending) {
          this.log.info({ fingerprint: reply.fingerprint }, 'waiting for an admin to accept this agent (compare the fingerprint)');
          hasSaidPending = true;
        }
      } catch (err) {
        if (err instanceof AgentRefusedError || isStopping()) throw err;
        this.log.warn({ err: String(err) }, 'portal not reachable; retrying');
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private async call(method: string, path: string, headers: Record<string, string>, body?: string): Promise<unknown> {
    const res = await fetch(new URL(path, this.portalUrl), {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    const parsed = safeJson(text) as { message?: string } | undefined;
    if (res.ok) return parsed;
    const message = parsed?.message ?? text.slice(0, 200);
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      throw new AgentRefusedError(`portal refused (${res.status}): ${message}`);
    }
    throw new Error(`portal answered ${res.status}: ${message}`);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
