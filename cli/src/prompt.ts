/**
 * Questions on the terminal: a password that is never echoed, and yes/no. Without a terminal (a script, a test)
 * the answer is read as one line from stdin, so `echo "$PASSWORD" | baton login ...` works.
 */
import { createInterface } from 'node:readline';
import { CliError, EXIT } from './exit-codes';

/** Reads a password: on a terminal with echo off, otherwise the first line of stdin. */
export async function askPassword(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const line = await readLine();
    if (line === undefined) throw new CliError('no password: type it at the prompt, or pipe it on stdin', EXIT.usage);
    return line;
  }
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let password = '';
    const finish = (error?: CliError) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(password);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003') return finish(new CliError('interrupted', EXIT.interrupted));
        if (char === '\u0004') return finish(password === '' ? new CliError('no password given', EXIT.usage) : undefined);
        if (char === '\u007f' || char === '\b') password = password.slice(0, -1);
        else if (char >= ' ') password += char;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** Asks a yes/no question on stderr; true only for an explicit yes. `undefined` when stdin ended or Ctrl-C was pressed. */
export async function confirm(question: string): Promise<boolean | undefined> {
  process.stderr.write(`${question} [y/N] `);
  const answer = await readLine();
  if (answer === undefined) {
    process.stderr.write('\n');
    return undefined;
  }
  return /^y(es)?$/i.test(answer.trim());
}

/** One line of stdin, or undefined at its end (or on Ctrl-C at a terminal). */
export function readLine(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    let isDone = false;
    const done = (line: string | undefined) => {
      if (isDone) return;
      isDone = true;
      rl.close();
      process.stdin.pause();
      resolve(line);
    };
    rl.once('line', (line) => done(line));
    rl.once('close', () => done(undefined));
    rl.once('SIGINT', () => done(undefined));
  });
}
