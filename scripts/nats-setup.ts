/**
 * `npm run nats:setup -- --out <dir> [--listen 0.0.0.0:4222] [--name baton-nats-1] [--force]`: NATS decentralized
 * authentication (operator mode) for Baton. Creates an operator (with a signing key), the system account `SYS` with
 * a user, the application account `BATON` (with a signing key and JetStream) with the portal's user, and writes the
 * server configuration, the portal's settings and the keys into <dir>. See deploy/nats/README.md.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';
import { encodeAccountUserJwt, unlimitedAccountLimits } from '../portal/api/src/fleet/nats-authority';

export interface NatsSetupOptions {
  outDir: string;
  /** host:port the server listens on. */
  listen: string;
  serverName: string;
  /** Replace an existing setup in outDir (its keys stop working). */
  isForced: boolean;
}

export interface NatsSetupResult {
  outDir: string;
  natsUrl: string;
  operator: string;
  systemAccount: string;
  account: string;
  /** Every file written, with its mode. */
  files: { path: string; mode: number }[];
}

const USAGE = `usage: npm run nats:setup -- --out <dir> [--listen 0.0.0.0:4222] [--name baton-nats-1] [--force]`;
const SECRET = 0o600;
const PUBLIC = 0o644;
/** What marks a directory as already holding a setup. */
const SETUP_FILES = ['nats-server.conf', 'accounts.conf', 'portal.env', 'portal.creds', 'sys.creds', 'keys'];

/** A mistake in the command line: printed with the usage. */
export class UsageError extends Error {}

export function parseNatsSetupArgs(argv: string[]): NatsSetupOptions {
  const values: Record<string, string> = {};
  let isForced = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (flag === '--force' && inline === undefined) {
      isForced = true;
      continue;
    }
    if (!['--out', '--listen', '--name'].includes(flag)) throw new UsageError(`unknown argument ${JSON.stringify(argv[i])}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '' || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    values[flag] = value;
  }
  if (!values['--out']) throw new UsageError('--out <dir> is required');
  const listen = values['--listen'] ?? '0.0.0.0:4222';
  parseListen(listen);
  const serverName = values['--name'] ?? 'baton-nats-1';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(serverName)) {
    throw new UsageError(`--name ${JSON.stringify(serverName)}: letters, digits, '.', '_' and '-' only`);
  }
  return { outDir: resolve(values['--out']), listen, serverName, isForced };
}

/** host:port, the host possibly a bracketed IPv6 address. */
function parseListen(listen: string): { host: string; port: number } {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535)
    throw new UsageError(`--listen ${JSON.stringify(listen)}: expected host:port, such as 0.0.0.0:4222`);
  return { host: match[1], port };
}

/** The URL the portal on the same host uses: loopback when the server listens on every address. */
function localUrl(listen: string): string {
  const { host, port } = parseListen(listen);
  const isAnyOrLoopback = ['0.0.0.0', '[::]', 'localhost', '127.0.0.1', '[::1]'].includes(host);
  return `nats://${isAnyOrLoopback ? '127.0.0.1' : host}:${port}`;
}

export async function runNatsSetup(options: NatsSetupOptions): Promise<NatsSetupResult> {
  const dir = resolve(options.outDir);
  const existing = SETUP_FILES.filter((f) => existsSync(join(dir, f)));
  if (existing.length > 0 && !options.isForced) {
    throw new Error(
      `${dir} already holds a NATS setup (${existing.join(', ')}); pass --force to replace it ` +
        '(a new operator: every credential issued under the old one stops working)',
    );
  }

  const operator = createOperator();
  const operatorSigning = createOperator();
  const sys = createAccount();
  const sysUser = createUser();
  const baton = createAccount();
  const batonSigning = createAccount();
  const portalUser = createUser();

  const operatorJwt = await encodeOperator('baton', operator, {
    signing_keys: [operatorSigning.getPublicKey()],
    system_account: sys.getPublicKey(),
  });
  const sysJwt = await encodeAccount('SYS', sys, { limits: unlimitedAccountLimits(false) }, { signer: operatorSigning });
  const batonJwt = await encodeAccount(
    'BATON',
    baton,
    { signing_keys: [batonSigning.getPublicKey()], limits: unlimitedAccountLimits(true) },
    { signer: operatorSigning },
  );
  // The system user is signed by the SYS account's own key; the portal's by BATON's signing key, like the agents'.
  const sysUserJwt = await encodeUser('sys', sysUser, sys);
  const portalJwt = await encodeAccountUserJwt({
    name: 'baton-portal',
    userPublicKey: portalUser.getPublicKey(),
    accountPublicKey: baton.getPublicKey(),
    accountSigningKey: batonSigning,
  });

  const files: NatsSetupResult['files'] = [];
  const write = (name: string, content: string | Uint8Array, mode: number): string => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode });
    chmodSync(path, mode); // an overwritten file keeps its old mode otherwise
    files.push({ path, mode });
    return path;
  };
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
  chmodSync(join(dir, 'keys'), 0o700);
  mkdirSync(join(dir, 'jwt'), { recursive: true, mode: 0o700 });

  const natsUrl = localUrl(options.listen);
  write('keys/operator.nk', seedText(operator), SECRET);
  write('keys/operator-signing.nk', seedText(operatorSigning), SECRET);
  write('keys/sys-account.nk', seedText(sys), SECRET);
  write('keys/baton-account.nk', seedText(baton), SECRET);
  write('keys/baton-account-signing.nk', seedText(batonSigning), SECRET);
  write('operator.jwt', `${operatorJwt}\n`, PUBLIC);
  const sysCreds = write('sys.creds', fmtCreds(sysUserJwt, sysUser), SECRET);
  const portalCreds = write('portal.creds', fmtCreds(portalJwt, portalUser), SECRET);
  const trust = trustLines(operatorJwt, sys.getPublicKey(), { [sys.getPublicKey()]: sysJwt, [baton.getPublicKey()]: batonJwt });
  write('nats-server.conf', serverConf({ ...options, dir, trust }), PUBLIC);
  write(
    'accounts.conf',
    [
      '# Operator mode for Baton, written by npm run nats:setup: the same on every server of a cluster.',
      '# Included by the cluster configurations in deploy/nats/cluster/ (nats-server.conf holds the same lines).',
      ...trust,
      '',
    ].join('\n'),
    PUBLIC,
  );
  write(
    'portal.env',
    [
      "# The portal's NATS settings, written by npm run nats:setup: secrets, keep this file private.",
      `NATS_URL=${natsUrl}`,
      `NATS_CREDS=${portalCreds}`,
      "# Signs the agents' user JWTs.",
      `BATON_NATS_ACCOUNT_SIGNING_SEED=${seedText(batonSigning)}`,
      `BATON_NATS_ACCOUNT_JWT=${batonJwt}`,
      '# Re-signs the account JWT with revocations, and the system user pushes it to the servers: revokes agents.',
      `BATON_NATS_OPERATOR_SIGNING_SEED=${seedText(operatorSigning)}`,
      `BATON_NATS_SYSTEM_CREDS=${sysCreds}`,
      '',
    ].join('\n'),
    SECRET,
  );
  return {
    outDir: dir,
    natsUrl,
    operator: operator.getPublicKey(),
    systemAccount: sys.getPublicKey(),
    account: baton.getPublicKey(),
    files,
  };
}

function seedText(kp: KeyPair): string {
  return new TextDecoder().decode(kp.getSeed());
}

/** Whom the servers trust: the operator, the system account, and the account JWTs they start with. */
function trustLines(operatorJwt: string, systemAccount: string, accounts: Record<string, string>): string[] {
  return [
    `operator: ${operatorJwt}`,
    `system_account: ${systemAccount}`,
    '# Stored into the resolver directory at start unless it holds a newer JWT of the same account (one with',
    '# revocations the portal pushed), which a restart therefore keeps.',
    'resolver_preload: {',
    ...Object.entries(accounts).map(([account, jwt]) => `  ${account}: ${jwt}`),
    '}',
  ];
}

function serverConf(c: NatsSetupOptions & { dir: string; trust: string[] }): string {
  return [
    '# NATS server for Baton in operator mode (decentralized JWT authentication), written by npm run nats:setup.',
    `# Check it with: nats-server -c ${join(c.dir, 'nats-server.conf')} -t`,
    '# Accounts: SYS (the system account) and BATON (the portal and the agents, with JetStream).',
    '',
    `server_name: ${c.serverName}`,
    `listen: ${JSON.stringify(c.listen)}`,
    '',
    ...c.trust,
    '',
    '# Account JWTs live in the resolver directory; the portal pushes updates (revocations) through the system account.',
    'resolver: {',
    '  type: full',
    `  dir: ${JSON.stringify(join(c.dir, 'jwt'))}`,
    '  allow_delete: false',
    '  interval: "2m"',
    '}',
    '',
    'jetstream {',
    `  store_dir: ${JSON.stringify(join(c.dir, 'jetstream'))}`,
    '}',
    '',
  ].join('\n');
}

function describe(result: NatsSetupResult): string {
  const mode = (m: number) => `0${m.toString(8)}`;
  const conf = join(result.outDir, 'nats-server.conf');
  return [
    `NATS operator mode for Baton in ${result.outDir}`,
    `  operator ${result.operator}, system account SYS ${result.systemAccount}, account BATON ${result.account}`,
    'Wrote:',
    ...result.files.map((f) => `  ${mode(f.mode)}  ${f.path}`),
    '',
    'Next steps:',
    `  1. Check and start the server:  nats-server -c ${conf} -t && nats-server -c ${conf}`,
    `  2. Give the portal the settings in ${join(result.outDir, 'portal.env')}`,
    '     (e.g. systemd EnvironmentFile=, or: set -a; . portal.env; set +a; npm start).',
    `  3. Move ${join(result.outDir, 'keys')}/operator.nk and baton-account.nk offline: nothing running needs them.`,
    '  4. For a 3-server cluster, see deploy/nats/README.md.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  try {
    process.stdout.write(describe(await runNatsSetup(parseNatsSetupArgs(argv))));
  } catch (err) {
    const isUsage = err instanceof UsageError;
    process.stderr.write(`nats:setup: ${(err as Error).message}\n${isUsage ? `${USAGE}\n` : ''}`);
    process.exitCode = isUsage ? 2 : 1;
  }
}

if (require.main === module) void main();
