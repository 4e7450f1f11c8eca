/**
 * Masking secret values in text: `***` wherever a secret value appears. `SecretMasker` works on a stream of
 * chunks (a step's stdout), so a value split across two chunks is still caught: it emits what is decided and
 * holds back only the tail that could still become a secret (at most the longest secret minus one character).
 * Pure code, no Node.js APIs: the executor, the portal's ingest and error filter, and the UI may all use it.
 *
 * Overlapping occurrences (secrets `abc` and `bcd` in `abcd`) are masked as one run, so no character of any
 * secret is ever shown; consecutive masked characters become a single `***`.
 *
 * Any non-empty value is masked. A one- or two-character secret would turn most of a log into `***`, which is
 * why the portal refuses secrets shorter than `MIN_SECRET_LENGTH`.
 */

export const MASK = '***';
/** Stored secrets and secret parameter values must be at least this long, so that masking keeps logs readable. */
export const MIN_SECRET_LENGTH = 4;

export class SecretMasker {
  private readonly secrets: string[];
  private readonly firstChars: Set<string>;
  private held = '';
  /** Which characters of `held` are already known to be inside a secret (an occurrence that reached into them). */
  private heldMarks = new Uint8Array(0);
  /** Whether the last character emitted was masked: a masked run split across pushes yields one `***`. */
  private isInMaskedRun = false;

  constructor(secrets: Iterable<string>) {
    this.secrets = [...new Set([...secrets].filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
    this.firstChars = new Set(this.secrets.map((s) => s[0]));
  }

  get hasSecrets(): boolean {
    return this.secrets.length > 0;
  }

  /** The part of `held + chunk` that can safely be emitted now, masked. */
  push(chunk: string): string {
    if (!this.hasSecrets) return chunk;
    const text = this.held + chunk;
    const marks = this.coverage(text);
    const cut = this.undecidedFrom(text);
    this.held = text.slice(cut);
    this.heldMarks = marks.slice(cut);
    return this.render(text, marks, cut);
  }

  /** Everything still held, masked; the masker is then ready for a new stream. */
  flush(): string {
    if (!this.hasSecrets) return '';
    const text = this.held;
    const out = this.render(text, this.coverage(text), text.length);
    this.held = '';
    this.heldMarks = new Uint8Array(0);
    this.isInMaskedRun = false;
    return out;
  }

  /** Which characters of `text` (held text first) lie inside an occurrence of a secret. */
  private coverage(text: string): Uint8Array {
    const marks = new Uint8Array(text.length);
    marks.set(this.heldMarks);
    for (let i = 0; i < text.length; i++) {
      if (!this.firstChars.has(text[i])) continue;
      for (const secret of this.secrets) {
        if (!text.startsWith(secret, i)) continue;
        marks.fill(1, i, i + secret.length);
        break; // secrets are sorted longest first: the longest match covers the others starting here
      }
    }
    return marks;
  }

  /** The first position whose rest of text is a proper prefix of a secret: from there on, the next chunk decides. */
  private undecidedFrom(text: string): number {
    const longest = this.secrets[0].length;
    for (let i = Math.max(0, text.length - longest + 1); i < text.length; i++) {
      if (!this.firstChars.has(text[i])) continue;
      const rest = text.slice(i);
      if (this.secrets.some((secret) => secret.length > rest.length && secret.startsWith(rest))) return i;
    }
    return text.length;
  }

  private render(text: string, marks: Uint8Array, upTo: number): string {
    let out = '';
    let plainFrom = 0;
    for (let i = 0; i < upTo; i++) {
      if (!marks[i]) {
        this.isInMaskedRun = false;
        continue;
      }
      out += text.slice(plainFrom, i);
      plainFrom = i + 1;
      if (!this.isInMaskedRun) out += MASK;
      this.isInMaskedRun = true;
    }
    out += text.slice(plainFrom, upTo);
    return out;
  }
}

/** `text` with every occurrence of every secret replaced by `***`. */
export function maskText(text: string, secrets: Iterable<string>): string {
  const masker = new SecretMasker(secrets);
  if (!masker.hasSecrets) return text;
  return masker.push(text) + masker.flush();
}

/** Every value of a string record masked (step outputs). */
export function maskRecord(record: Record<string, string>, mask: (text: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, mask(value)]));
}
