/**
 * The agent's install script (GET /install/agent.sh) as a pure function of what the portal knows: its address, the
 * checksum and CPU of the agent binary it serves, and the systemd unit. Also the two checks around it: which address
 * may go into a script, and which CPU an ELF binary is for.
 */

export interface AgentInstallScriptInput {
  /** Where the script downloads the agent from and where the agent enrolls, e.g. `https://baton.example.com`. */
  portalUrl: string;
  /** SHA-256 (hex) of the binary served now: the script refuses a download that differs. */
  sha256: string;
  /** `uname -m` of the machines the binary runs on; undefined when unknown, then not checked. */
  arch?: string;
  /** The text of deploy/systemd/baton-agent.service. */
  unit: string;
}

const UNIT_DELIMITER = 'BATON_AGENT_UNIT';

/** A host name, an IPv4 address or a bracketed IPv6 address, with an optional port. */
const HOST_PORT = String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?`;
const PLAIN_HOST = new RegExp(`^${HOST_PORT}$`);
/** What may go into the script, the agent's settings file and its comments: nothing a shell or systemd reads as more. */
const PLAIN_URL = new RegExp(`^https?://${HOST_PORT}(?:/[A-Za-z0-9._~%/-]*)?$`);

/**
 * The portal's address for a script: BATON_PUBLIC_URL when set, else the request's own protocol and Host, but only a
 * plain host[:port] (a Host header is whatever the client sent). Undefined when the address is not a plain URL.
 */
export function installPortalUrl(
  publicUrl: string | undefined,
  request: { protocol: string; host: string | undefined },
): string | undefined {
  if (publicUrl) {
    const url = publicUrl.replace(/\/+$/, '');
    return PLAIN_URL.test(url) ? url : undefined;
  }
  if (!request.host || !PLAIN_HOST.test(request.host)) return undefined;
  const url = `${request.protocol}://${request.host}`;
  return PLAIN_URL.test(url) ? url : undefined;
}

/** `value` as one word of POSIX sh, taken literally. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const ELF_MACHINES: Record<number, string> = { 0x3e: 'x86_64', 0xb7: 'aarch64' };

/** The `uname -m` an ELF executable runs on, from its first 20 bytes; undefined for anything else. */
export function elfArch(header: Buffer): string | undefined {
  const isElf = header.length >= 20 && header.readUInt32BE(0) === 0x7f454c46;
  const isLittleEndian = header[5] === 1;
  if (!isElf || !isLittleEndian) return undefined;
  return ELF_MACHINES[header.readUInt16LE(18)];
}

/**
 * The POSIX sh install script. Everything runs from `main "$@"` on the last line, so a script cut short in transfer
 * runs nothing, and a command reading stdin cannot eat the rest of a piped script.
 */
export function renderAgentInstallScript({ portalUrl, sha256, arch, unit }: AgentInstallScriptInput): string {
  if (unit.split('\n').includes(UNIT_DELIMITER)) throw new Error(`the agent unit must not contain a line "${UNIT_DELIMITER}"`);
  const unitText = unit.endsWith('\n') ? unit : `${unit}\n`;
  return `#!/bin/sh
# Installs the Baton agent from the portal at ${portalUrl}:
#
#   curl -fsSL ${portalUrl}/install/agent.sh | sudo sh -s -- --token TOKEN [--name web-7] [--labels role=web]
#
# It downloads the agent (one file) to /usr/local/bin/baton-agent and checks its SHA-256, writes the systemd
# unit baton-agent.service and /etc/baton/agent.env (mode 0600), then starts the agent, which enrolls with the
# portal using the token. Run it again to upgrade. BATON_INSTALL_ROOT=DIR writes the files under DIR and leaves
# systemd alone (a dry run).
set -eu

PORTAL_URL=${shellQuote(portalUrl)}
AGENT_SHA256=${shellQuote(sha256)}
AGENT_ARCH=${shellQuote(arch ?? '')}

usage() {
  printf '%s\\n' \\
    "Usage: curl -fsSL $PORTAL_URL/install/agent.sh | sudo sh -s -- --token TOKEN [--name NAME] [--labels LABELS]" \\
    '' \\
    'Installs the Baton agent as the systemd service baton-agent; it enrolls with the portal using the token.' \\
    '' \\
    '  --token TOKEN    enrollment token from the portal (or BATON_ENROLL_TOKEN in the environment)' \\
    '  --name NAME      node name (default: the short host name)' \\
    '  --labels LABELS  node labels, such as role=web,env=prod' \\
    '' \\
    'BATON_INSTALL_ROOT=DIR writes the files under DIR and leaves systemd alone (a dry run).'
}

fail() {
  printf 'baton agent install: %s\\n' "$1" >&2
  exit 1
}

# Values go into agent.env unquoted: refuse anything systemd could read differently (spaces, quotes, backslashes).
check_value() {
  case $2 in
    *[!A-Za-z0-9_.,:/=+@%~-]*) fail "$1 may contain only letters, digits and _ . , : / = + @ % ~ -" ;;
  esac
}

# The agent's rule for node names (NODE_NAME_PATTERN in shared), checked here so a bad name fails now, not at every start.
check_name() {
  rule="must be letters, digits, \\"-\\" or \\"_\\" (at most 63), starting with a letter or digit"
  case $1 in
    [A-Za-z0-9]*) ;;
    *) fail "--name \\"$1\\" $rule" ;;
  esac
  case $1 in
    *[!A-Za-z0-9_-]*) fail "--name \\"$1\\" $rule" ;;
  esac
  [ "\${#1}" -le 63 ] || fail "--name \\"$1\\" $rule"
}

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  fetch() { fail "curl or wget is required"; }
fi

if command -v sha256sum >/dev/null 2>&1; then
  sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }
else
  sha256_of() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
fi

main() {
  token=\${BATON_ENROLL_TOKEN:-}
  name=''
  labels=''
  while [ "$#" -gt 0 ]; do
    case $1 in
      --token | --name | --labels)
        [ "$#" -ge 2 ] || fail "$1 needs a value"
        option=$1
        value=$2
        shift 2
        ;;
      --token=* | --name=* | --labels=*)
        option=\${1%%=*}
        value=\${1#*=}
        shift
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      *)
        fail "unknown argument \\"$1\\" (see --help)"
        ;;
    esac
    case $option in
      --token) token=$value ;;
      --name) name=$value ;;
      --labels) labels=$value ;;
    esac
  done

  [ -n "$token" ] || fail "an enrollment token is required: add --token TOKEN after 'sh -s --' (see --help)"
  if [ -z "$name" ]; then
    name=$(uname -n)
    name=\${name%%.*}
  fi
  check_value --token "$token"
  check_name "$name"
  check_value --labels "$labels"

  [ "$(uname -s)" = Linux ] || fail "the agent runs on Linux with systemd; this is $(uname -s)"
  if [ -n "$AGENT_ARCH" ] && [ "$(uname -m)" != "$AGENT_ARCH" ]; then
    fail "this portal serves the agent for $AGENT_ARCH machines; this one is $(uname -m)"
  fi

  root=\${BATON_INSTALL_ROOT:-}
  if [ -z "$root" ]; then
    [ "$(id -u)" -eq 0 ] || fail "run it as root: curl -fsSL $PORTAL_URL/install/agent.sh | sudo sh -s -- --token TOKEN"
    command -v systemctl >/dev/null 2>&1 || fail "systemd is required (systemctl not found)"
  fi
  command -v sha256sum >/dev/null 2>&1 || command -v shasum >/dev/null 2>&1 || fail "sha256sum is required to check the download"

  bin_dir=$root/usr/local/bin
  unit_dir=$root/etc/systemd/system
  env_dir=$root/etc/baton
  mkdir -p "$bin_dir" "$unit_dir" "$env_dir"

  # Downloaded beside its final place, then renamed: a running agent keeps its own file until it restarts.
  binary=$(mktemp "$bin_dir/.baton-agent.XXXXXX")
  trap 'rm -f "$binary"' EXIT
  printf 'downloading the agent from %s\\n' "$PORTAL_URL"
  fetch "$PORTAL_URL/install/baton-agent" "$binary" || fail "could not download $PORTAL_URL/install/baton-agent"
  actual=$(sha256_of "$binary")
  if [ "$actual" != "$AGENT_SHA256" ]; then
    fail "the download's SHA-256 is $actual, not $AGENT_SHA256: the agent changed on the portal meanwhile, or the transfer was altered; run the install again"
  fi
  chmod 0755 "$binary"
  mv -f "$binary" "$bin_dir/baton-agent"

  cat >"$unit_dir/baton-agent.service" <<'${UNIT_DELIMITER}'
${unitText}${UNIT_DELIMITER}
  chmod 0644 "$unit_dir/baton-agent.service"

  # Created private: it holds the enrollment token.
  rm -f "$env_dir/agent.env.new"
  (
    umask 077
    printf '%s\\n' \\
      "# Written by the Baton agent install script." \\
      "BATON_PORTAL_URL=$PORTAL_URL" \\
      "BATON_AGENT_NAME=$name" \\
      "BATON_AGENT_LABELS=$labels" \\
      "BATON_ENROLL_TOKEN=$token" >"$env_dir/agent.env.new"
  )
  chmod 0600 "$env_dir/agent.env.new"
  mv -f "$env_dir/agent.env.new" "$env_dir/agent.env"

  if [ -n "$root" ]; then
    printf 'installed under %s; systemd left alone (BATON_INSTALL_ROOT)\\n' "$root"
    return 0
  fi
  systemctl daemon-reload
  systemctl enable baton-agent
  # restart, not start: a reinstall replaces the agent that is running.
  systemctl restart baton-agent
  printf 'baton-agent is running as %s and enrolls with %s; follow it with: journalctl -u baton-agent -f\\n' "$name" "$PORTAL_URL"
}

main "$@"
`;
}
