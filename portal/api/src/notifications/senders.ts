/**
 * One attempt to hand a message over: an HTTP POST (slack, teams, webhook) or an e-mail through SMTP with nodemailer.
 * Each answers what happened in words an admin can act on, and never throws: the outbox decides what comes next.
 */
import { createTransport } from 'nodemailer';

export interface AttemptResult {
  isDelivered: boolean;
  /** The receiver's HTTP status, or the SMTP reply code, when it answered. */
  status?: number;
  error?: string;
}

/** How much of a refusing receiver's answer is kept in the delivery's last error. */
const ANSWER_CHARS = 300;

export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  { timeoutMs, signal }: { timeoutMs: number; signal: AbortSignal },
): Promise<AttemptResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Baton', ...headers },
      body,
      redirect: 'error',
      signal: AbortSignal.any([timeout, signal]),
    });
    const answer = (await res.text().catch(() => '')).slice(0, ANSWER_CHARS);
    if (res.ok) return { isDelivered: true, status: res.status };
    return { isDelivered: false, status: res.status, error: `HTTP ${res.status}${answer ? `: ${answer}` : ''}` };
  } catch (err) {
    if (timeout.aborted) return { isDelivered: false, error: `no answer within ${timeoutMs} ms (timeout)` };
    if (signal.aborted) return { isDelivered: false, error: 'the portal stopped during the attempt' };
    return { isDelivered: false, error: networkError(err) };
  }
}

/** `fetch failed` says nothing; its cause does (ECONNREFUSED 127.0.0.1:9, ENOTFOUND hooks.example, ...). */
function networkError(err: unknown): string {
  const cause = (err as { cause?: { message?: unknown } } | null)?.cause;
  if (typeof cause?.message === 'string') return `could not reach the receiver: ${cause.message}`;
  return messageOf(err);
}

function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

export interface SmtpSettings {
  host: string;
  port: number;
  security: 'starttls' | 'tls';
  user?: string;
  password?: string;
  ca?: string;
}

export interface Mail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  /** The same for every attempt of one event, so a mail system that saw it already can drop the copy. */
  messageId: string;
  headers: Record<string, string>;
}

export async function sendMail(smtp: SmtpSettings, mail: Mail, { timeoutMs }: { timeoutMs: number }): Promise<AttemptResult> {
  const transport = createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.security === 'tls',
    // STARTTLS or nothing: a server that does not offer it (or a man in the middle stripping it) fails the attempt.
    requireTLS: smtp.security === 'starttls',
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    tls: smtp.ca ? { ca: smtp.ca } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    const info = await transport.sendMail({
      from: mail.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      messageId: mail.messageId,
      headers: mail.headers,
    });
    return { isDelivered: true, status: smtpCode(info.response) };
  } catch (err) {
    const code = (err as { responseCode?: number }).responseCode;
    return { isDelivered: false, status: code, error: `SMTP: ${messageOf(err)}` };
  } finally {
    transport.close();
  }
}

function smtpCode(response: string | undefined): number | undefined {
  const code = Number(/^(\d{3})/.exec(response ?? '')?.[1]);
  return Number.isFinite(code) ? code : undefined;
}
