import { spawnSync } from 'node:child_process';
import { Context } from './context';
import { bashCompletion, zshCompletion } from './completion';
import { buildProgram } from './program';

const { program } = buildProgram((globals) => new Context({}, globals));
const script = bashCompletion(program);

/** What bash offers for the words typed so far (the last one being completed), using the generated script. */
function complete(line: string): string[] {
  const words = line.split(' ');
  const run = `${script}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_baton_complete
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['--norc', '-c', run], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.split('\n').filter(Boolean);
}

describe('bash completion', () => {
  it('is valid bash', () => {
    expect(spawnSync('bash', ['-n'], { input: script }).status).toBe(0);
  });

  it('completes commands, subcommands (also through aliases) and options', () => {
    expect(complete('baton ex')).toEqual(['executions']);
    expect(complete('baton executions ')).toEqual(expect.arrayContaining(['ls', 'show', 'logs', 'cancel', 'rerun']));
    expect(complete('baton ex l')).toEqual(['ls', 'logs']);
    expect(complete('baton executions logs --f')).toEqual(['--follow']);
    expect(complete('baton run demo.hello --wa')).toEqual(['--wait', '--wait-approval']);
  });

  it('completes the fixed values of options and arguments', () => {
    expect(complete('baton --output ')).toEqual(['table', 'json']);
    expect(complete('baton nodes ls -o j')).toEqual(['json']);
    expect(complete('baton completion ')).toEqual(expect.arrayContaining(['bash', 'zsh']));
  });
});

/** What the zsh function offers, with compadd and _describe replaced by stubs that print their candidates. */
function zshCandidates(words: string[]): string[] {
  const run = `compdef() { : }
compadd() { if [[ $1 == -a ]]; then print -rl -- \${(P)2}; else shift; print -rl -- "$@"; fi }
_describe() { print -rl -- \${(P)4} }
_files() { print -r -- '<files>' }
${zshCompletion(program)}
words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; PREFIX='${words[words.length - 1]}'
_baton`;
  const result = spawnSync('zsh', ['-f', '-c', run], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.split('\n').filter(Boolean);
}

// zsh is installed by .ci/run: without it this suite fails rather than being skipped.
describe('zsh completion', () => {
  it('is valid zsh', () => {
    expect(spawnSync('zsh', ['-n'], { input: zshCompletion(program) }).status).toBe(0);
  });

  it('offers subcommands with their descriptions, options, option values and files', () => {
    expect(zshCandidates(['baton', 'ex', ''])).toEqual(expect.arrayContaining(['ls:executions of the runbooks you may see, newest first']));
    expect(zshCandidates(['baton', 'executions', 'logs', '--'])).toEqual(
      expect.arrayContaining(['--follow', '--wait-approval', '--output']),
    );
    expect(zshCandidates(['baton', '--output', ''])).toEqual(['table', 'json']);
    expect(zshCandidates(['baton', 'lint', ''])).toEqual(['<files>']);
  });
});
