/**
 * Enrollment tokens (`/enrollment-tokens`, admins only) as the Admin page shows and creates them, and the pure pieces
 * of that: reading `k=v` labels typed in a form, and the install command a node runs with a new token.
 */

export type EnrollmentTokenStatus = 'active' | 'expired' | 'used_up' | 'revoked';

export interface EnrollmentToken {
  id: string;
  description: string | null;
  expiresAt: string;
  maxUses: number;
  uses: number;
  /** Nodes enrolling with it are accepted at once, without an admin (Salt's autosign). */
  autoAccept: boolean;
  /** Given to every node that enrolls with it. */
  labels: Record<string, string>;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
  status: EnrollmentTokenStatus;
}

/** The answer to a create: the token itself comes this once and never again. */
export interface CreatedEnrollmentToken extends EnrollmentToken {
  token: string;
}

export interface NewEnrollmentToken {
  expiresIn: string;
  maxUses: number;
  autoAccept: boolean;
  labels?: Record<string, string>;
  description?: string;
}

/** How long a new token lasts, as the API's `expiresIn` takes it. */
export const EXPIRY_CHOICES: readonly { expiresIn: string; label: string }[] = [
  { expiresIn: '15m', label: '15 minutes' },
  { expiresIn: '1h', label: '1 hour' },
  { expiresIn: '8h', label: '8 hours' },
  { expiresIn: '24h', label: '1 day' },
  { expiresIn: '7d', label: '7 days' },
  { expiresIn: '30d', label: '30 days' },
];

export const STATUS_WORDS: Record<EnrollmentTokenStatus, string> = {
  active: 'active',
  expired: 'expired',
  used_up: 'used up',
  revoked: 'revoked',
};

/** Labels typed as `role=web, env=prod` (commas or spaces between pairs); an error naming the part it cannot read. */
export function parseLabels(text: string): { labels: Record<string, string> } | { error: string } {
  const labels: Record<string, string> = {};
  for (const part of text.split(/[,\s]+/).filter((p) => p !== '')) {
    const separator = part.indexOf('=');
    if (separator <= 0 || separator === part.length - 1) return { error: `"${part}": write each label as key=value` };
    const key = part.slice(0, separator);
    if (Object.hasOwn(labels, key)) return { error: `"${key}" is given twice` };
    labels[key] = part.slice(separator + 1);
  }
  return { labels };
}

/** A word the shell passes through as it is, or the word in single quotes. */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_.,:=/@%+-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Each node's own host name, when the admin names no node: the shell that runs the command fills it in. */
export const HOSTNAME_OF_THE_NODE = '"$(hostname)"';

/**
 * What an admin pastes on a node: download the install script from the portal and enroll with the token, a node
 * name (the node's host name when none is given) and the token's labels.
 */
export function installCommand(portalOrigin: string, token: string, nodeName: string, labels: Record<string, string>): string {
  const name = nodeName.trim() === '' ? HOSTNAME_OF_THE_NODE : shellWord(nodeName.trim());
  const words = [
    `curl -fsSL ${shellWord(`${portalOrigin}/install/agent.sh`)} | sudo sh -s --`,
    `--token ${shellWord(token)}`,
    `--name ${name}`,
  ];
  const labelList = Object.entries(labels).map(([key, value]) => `${key}=${value}`);
  if (labelList.length > 0) words.push(`--labels ${shellWord(labelList.join(','))}`);
  return words.join(' ');
}
