/** What the benchmarks say when a run they time does not succeed. */
import type { Portal } from '../portal/api/test/harness';

/** The execution's reason and its first failed node run, for a benchmark that stops on it. */
export async function whyNotSucceeded(portal: Portal, id: string, status: string): Promise<string> {
  const { body } = await portal.request('GET', `/api/v1/executions/${id}`);
  const failed = (body?.nodes ?? []).filter((n: { status: string }) => n.status !== 'succeeded');
  const first = failed[0] ? `; first of ${failed.length}: ${JSON.stringify(failed[0])}` : '';
  return `run ${id} ended ${status}: ${body?.reason ?? 'no reason given'}${first}`;
}
