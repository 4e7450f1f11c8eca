import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { exportStatement, shellQuote } from './shell-quote';

/** What /bin/sh makes of a quoted word: the value printed back byte for byte. */
function throughShell(script: string): string {
  return execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH } });
}

const PWNED = '/tmp/baton-shell-quote-pwned';
const HOSTILE = [
  '',
  'plain',
  "it's",
  "'",
  "''",
  "'\\''",
  `$(touch ${PWNED})`,
  `\`touch ${PWNED}\``,
  `; touch ${PWNED}`,
  `a\ntouch ${PWNED}\n`,
  `' ; touch ${PWNED}; echo '`,
  `"; touch ${PWNED}; echo "`,
  '$HOME ${HOME} $((1+1)) \\ \\\\ \\n',
  '* ? [a-z] ~ & | < > ( ) { } # !',
  'tab\there\r\nand crlf',
  'unicode: é ü 日本語 🚀 \u202e',
];

describe('shellQuote', () => {
  beforeEach(() => rmSync(PWNED, { force: true }));

  it.each(HOSTILE)('reads back %j literally and runs nothing', (value) => {
    expect(throughShell(`printf '%s' ${shellQuote(value)}`)).toBe(value);
    expect(existsSync(PWNED)).toBe(false);
  });

  it('wraps in single quotes and turns each quote into a closed-escaped-reopened quote', () => {
    expect(shellQuote('a')).toBe("'a'");
    expect(shellQuote("a'b")).toBe("'a'\\''b'");
  });

  it('refuses NUL, which no shell word can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describe('exportStatement', () => {
  beforeEach(() => rmSync(PWNED, { force: true }));

  it('exports every variable with its exact value to the command that follows', () => {
    const env = Object.fromEntries(HOSTILE.map((value, i) => [`V${i}`, value]));
    const script = `${exportStatement(env)}; exec node -e 'process.stdout.write(JSON.stringify(process.env))'`;
    const seen = JSON.parse(throughShell(script)) as Record<string, string>;
    for (const [name, value] of Object.entries(env)) expect(seen[name]).toBe(value);
    expect(existsSync(PWNED)).toBe(false);
  });

  it('is empty for no variables', () => {
    expect(exportStatement({})).toBe('');
  });

  it('refuses a name that would be pasted as code', () => {
    expect(() => exportStatement({ 'A;touch /tmp/x': '1' })).toThrow(/not a valid environment variable name/);
    expect(() => exportStatement({ 'A B': '1' })).toThrow();
  });
});
