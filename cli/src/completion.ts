/**
 * Shell completion scripts for bash and zsh, generated from the command tree itself, so a new command or option
 * completes without anyone editing a script. Subcommands, options and the values of options with fixed choices
 * complete; everything else falls back to file names.
 */
import type { Command, Option } from 'commander';

interface CommandNode {
  /** The canonical words after `baton`, e.g. `executions logs`. */
  path: string;
  /** Every way of typing the path, aliases included. */
  spellings: string[];
  subcommands: { name: string; description: string }[];
  options: string[];
  /** Fixed values of the command's first argument (e.g. bash|zsh). */
  argumentChoices: string[];
}

export function bashCompletion(program: Command): string {
  const nodes = commandNodes(program);
  const valueCases = optionValueCases(program);
  return `# baton completion for bash. Load it with: source <(baton completion bash)
_baton_complete() {
  local cur prev cmdpath="" w i words=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "\${cmdpath:+$cmdpath }$w" in
${pathCases(nodes)}
    esac
  done
  case "$prev" in
${valueCases.map(([flags, values]) => `    ${flags.map(quote).join('|')}) COMPREPLY=($(compgen -W ${quote(values.join(' '))} -- "$cur")); return ;;`).join('\n')}
${takesValue(program).length > 0 ? `    ${takesValue(program).map(quote).join('|')}) return ;;` : ''}
  esac
  case "$cmdpath" in
${nodes.map((n) => `    ${quote(n.path)}) words=${quote([...n.subcommands.map((s) => s.name), ...n.argumentChoices, ...n.options].join(' '))} ;;`).join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _baton_complete baton
`;
}

export function zshCompletion(program: Command): string {
  const nodes = commandNodes(program);
  const valueCases = optionValueCases(program);
  return `#compdef baton
# baton completion for zsh. Load it (after compinit) with: source <(baton completion zsh)
_baton() {
  local cmdpath="" w i
  local -a subcommands options
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    case "\${cmdpath:+$cmdpath }$w" in
${pathCases(nodes)}
    esac
  done
  case "\${words[CURRENT-1]}" in
${valueCases.map(([flags, values]) => `    ${flags.map(quote).join('|')}) compadd -- ${values.map(quote).join(' ')}; return ;;`).join('\n')}
${takesValue(program).length > 0 ? `    ${takesValue(program).map(quote).join('|')}) _files; return ;;` : ''}
  esac
  case "$cmdpath" in
${nodes
  .map(
    (n) =>
      `    ${quote(n.path)}) subcommands=(${[...n.subcommands.map((s) => quote(`${s.name}:${s.description}`)), ...n.argumentChoices.map(quote)].join(' ')}); options=(${n.options.map(quote).join(' ')}) ;;`,
  )
  .join('\n')}
  esac
  if [[ "$PREFIX" == -* ]]; then
    compadd -a options
  elif (( \${#subcommands} )); then
    _describe -t commands 'baton command' subcommands
  else
    _files
  fi
}
compdef _baton baton
`;
}

function commandNodes(program: Command): CommandNode[] {
  const nodes: CommandNode[] = [];
  const visit = (command: Command, path: string[], spellings: string[]) => {
    const visible = command.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
    nodes.push({
      path: path.join(' '),
      spellings,
      subcommands: visible.map((c) => ({ name: c.name(), description: c.description() })),
      // Options of `baton` itself are understood after any subcommand too (`baton nodes ls --output json`).
      options: [...optionFlags(command.options), '--help', ...optionFlags(program.options)].filter(unique),
      argumentChoices: command.registeredArguments[0]?.argChoices ?? [],
    });
    for (const sub of visible) {
      const names = [sub.name(), ...sub.aliases()];
      visit(
        sub,
        [...path, sub.name()],
        spellings.flatMap((s) => names.map((n) => (s ? `${s} ${n}` : n))),
      );
    }
  };
  visit(program, [], ['']);
  return nodes;
}

/** `case` arms that move the command path one word on, for every spelling of every command. */
function pathCases(nodes: CommandNode[]): string {
  return nodes
    .filter((n) => n.path !== '')
    .map((n) => `      ${n.spellings.map(quote).join('|')}) cmdpath=${quote(n.path)} ;;`)
    .join('\n');
}

function optionValueCases(program: Command): [string[], string[]][] {
  return allOptions(program)
    .filter((o) => o.argChoices && o.argChoices.length > 0)
    .map((o) => [flagsOf(o), o.argChoices!] as [string[], string[]])
    .filter((entry, i, all) => all.findIndex((e) => e[0].join() === entry[0].join()) === i);
}

/** Options that take a free value: after them, complete file names (or nothing), not commands. */
function takesValue(program: Command): string[] {
  return allOptions(program)
    .filter((o) => (o.required || o.optional) && !(o.argChoices && o.argChoices.length > 0))
    .flatMap(flagsOf)
    .filter(unique);
}

function allOptions(program: Command): Option[] {
  const options: Option[] = [];
  const visit = (command: Command) => {
    options.push(...command.options);
    command.commands.forEach(visit);
  };
  visit(program);
  return options;
}

function optionFlags(options: readonly Option[]): string[] {
  return options.flatMap(flagsOf);
}

function flagsOf(option: Option): string[] {
  return [option.short, option.long].filter((f): f is string => typeof f === 'string');
}

function unique<T>(value: T, index: number, all: T[]): boolean {
  return all.indexOf(value) === index;
}

/** Single-quoted for sh and zsh: safe for any text. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
