/** Step outputs: `key=value` lines a step writes to `$BATON_OUTPUT`, read back as `STEP_<ID>_<KEY>` by later steps. */
const OUTPUT_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (OUTPUT_KEY.test(key)) outputs[key] = line.slice(eq + 1).replace(/\r$/, '');
  }
  return outputs;
}

export function outputEnvName(stepId: string, key: string): string {
  return `STEP_${stepId}_${key}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}
