import { WrapperOutput } from './step-host';

const MARKER = 'baton-marker-0123456789abcdef01234567';

/** What a step wrapper writes: pid line, the step's stdout, marker, output file, closing marker with the exit code. */
function wrapperStdout(stdout: string, outputs: string, exitCode: number): string {
  return `4242\n${stdout}${MARKER}\n${outputs}\n${MARKER} ${exitCode}\n`;
}

function feed(output: WrapperOutput, text: string, push: (t: string) => void, chunkSize: number): void {
  for (let i = 0; i < text.length; i += chunkSize) push.call(output, text.slice(i, i + chunkSize));
}

function run(stdout: string, outputs: string, stderr: string, exitCode: number, chunkSize: number) {
  const seen = { stdout: '', stderr: '' };
  let done: number | undefined;
  const output = new WrapperOutput(MARKER, (stream, text) => (seen[stream] += text));
  output.onDone = (code) => (done = code);
  feed(output, wrapperStdout(stdout, outputs, exitCode), output.pushStdout, chunkSize);
  feed(output, `${stderr}${MARKER}\n`, output.pushStderr, chunkSize);
  return { seen, done, output };
}

describe('WrapperOutput', () => {
  // Chunk sizes from one character up: the markers and the pid line may be split anywhere.
  it.each([1, 2, 3, 7, 16, 1000])('splits the streams into output, outputs and exit code in chunks of %i', async (size) => {
    const { seen, done, output } = run('hello\nbaton-mark almost a marker\nno newline', 'a=1\nb=2', 'warn\n', 3, size);
    expect(seen).toEqual({ stdout: 'hello\nbaton-mark almost a marker\nno newline', stderr: 'warn\n' });
    expect(output.outputText).toBe('a=1\nb=2');
    expect(done).toBe(3);
    expect(await output.pid).toBe(4242);
  });

  it('is done only when stderr has reached its marker too', () => {
    const output = new WrapperOutput(MARKER, () => undefined);
    let done: number | undefined;
    output.onDone = (code) => (done = code);
    output.pushStdout(wrapperStdout('x', '', 0));
    expect(done).toBeUndefined();
    output.pushStderr(`late\n${MARKER}\n`);
    expect(done).toBe(0);
  });

  it('passes on everything held back when a killed step never reached the marker', () => {
    const seen: string[] = [];
    const output = new WrapperOutput(MARKER, (_stream, text) => seen.push(text));
    output.onDone = () => {
      throw new Error('a killed step is not done by its markers');
    };
    output.pushStdout('4242\nworking\nbaton');
    output.end();
    expect(seen.join('')).toBe('working\nbaton');
    expect(output.outputText).toBe('');
  });

  it('has no pid when the wrapper failed before printing it', async () => {
    const output = new WrapperOutput(MARKER, () => undefined);
    output.pushStderr('baton: cannot create the scratch directory /tmp/baton-x\n');
    output.end();
    expect(await output.pid).toBeUndefined();
    expect(output.pidKnown).toBe(false);
  });
});
