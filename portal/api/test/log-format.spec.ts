/**
 * The portal's log as people and collectors read it: readable lines with BATON_LOG_FORMAT=pretty (what a terminal
 * gets by default), one JSON object per line when the output is not a terminal.
 */
import { join } from 'node:path';
import { createTestEnv, destroyTestEnv, portalEnv, PortalProcess, type TestEnv } from './harness';

jest.setTimeout(120_000);

describe('the portal log', () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await createTestEnv(join(__dirname, 'runbooks-cli'));
  });

  afterAll(async () => {
    if (env) await destroyTestEnv(env);
  });

  async function startupLog(extra: Record<string, string>): Promise<string[]> {
    const portal = await new PortalProcess(portalEnv(env, { BATON_LOG_LEVEL: 'info', ...extra })).start();
    await portal.stop();
    return portal.output.split('\n').filter((line) => line.includes('resources loaded'));
  }

  it('is one JSON object per line when the output is not a terminal', async () => {
    const [line] = await startupLog({});
    expect(JSON.parse(line)).toMatchObject({ level: 30, context: 'RunbooksService', msg: 'resources loaded', errors: 0 });
  });

  it('is readable lines with BATON_LOG_FORMAT=pretty', async () => {
    const [line] = await startupLog({ BATON_LOG_FORMAT: 'pretty' });
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: RunbooksService: resources loaded$/);
  });
});
