/**
 * Notifiers and "Run again" in real headless Chromium against a portal on the local node: an admin creates a webhook
 * notifier from the Notifiers page, sends a test message and sees it delivered to a receiver started here; a failed
 * run's message arrives; Retry failed nodes on the execution page opens the new run, linked to the first; an
 * operator has no Notifiers page.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
// The end-to-end test drives the whole product, so it starts the portal and a receiver with the API's test helpers.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ADMIN_PASSWORD, createTestEnv, destroyTestEnv, startPortal, type Portal, type TestEnv } from '../../api/test/harness';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { HttpReceiver } from '../../api/test/receivers';

const ROOT = join(__dirname, '..', '..', '..');
const WEB_DIR = join(ROOT, 'dist', 'portal', 'web', 'browser');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OPERATOR = { username: 'otto', password: 'operator-password-2' };

const RUNBOOKS = `
apiVersion: baton/v1
kind: Runbook
id: e2e.fails
title: Fails on purpose
targets: { local: true }
steps:
  - id: fail
    run: echo "about to fail"; exit 1
`;

jest.setTimeout(180_000);

let env: TestEnv;
let portal: Portal;
let browser: Browser;
let runbooksDir: string;
const receiver = new HttpReceiver();

/** As in ui.spec.ts: the UI as the sources say now, or dist/ as it is with BATON_E2E_SKIP_BUILD=1. */
function ensureBuiltUi(): void {
  if (process.env.BATON_E2E_SKIP_BUILD === '1' && existsSync(join(WEB_DIR, 'index.html'))) return;
  execFileSync(process.execPath, [require.resolve('nx/bin/nx'), 'run', 'web:build'], { cwd: ROOT, stdio: 'pipe' });
}

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${portal.url}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Catalog' }).waitFor();
}

beforeAll(async () => {
  ensureBuiltUi();
  runbooksDir = mkdtempSync(join(tmpdir(), 'baton-e2e-notifiers-'));
  writeFileSync(join(runbooksDir, 'fails.yaml'), RUNBOOKS);
  env = await createTestEnv(runbooksDir);
  await receiver.start();
  portal = await startPortal(env, { BATON_WEB_DIR: WEB_DIR, NATS_URL: '' });
  const created = await portal.request('POST', '/api/v1/users', { ...OPERATOR, roles: [{ role: 'operator' }] });
  if (created.status !== 201) throw new Error(`could not create the operator: ${created.text}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await portal?.close();
  await receiver.stop();
  if (env) await destroyTestEnv(env);
  if (runbooksDir) rmSync(runbooksDir, { recursive: true, force: true });
});

describe('notifiers and run again in the UI', () => {
  it('lets an admin create a notifier, send a test message and see it delivered', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Notifiers' }).click();
    await page.getByRole('heading', { name: 'Notifiers', exact: true }).waitFor();

    await page.getByLabel('Name', { exact: true }).fill('e2e-hook');
    await page.getByLabel('URL', { exact: true }).fill(`${receiver.url}/e2e`);
    await page.getByRole('button', { name: 'Create notifier' }).click();
    await page.getByText('Notifier e2e-hook created.').waitFor();

    await page.getByRole('button', { name: 'Send a test message to e2e-hook' }).click();
    await receiver.waitFor('/e2e', 1);
    await page
      .getByRole('table', { name: 'Recent deliveries of e2e-hook' })
      .getByText('delivered after 1 attempt')
      .waitFor({ timeout: 10_000 });
    expect(JSON.parse(receiver.on('/e2e')[0].body).type).toBe('notifier.test');
    await page.close();
  });

  it('tells the notifier about a failed run, and retries its failed nodes from the execution page', async () => {
    const firstId = await portal.run('e2e.fails', {});
    await portal.waitForEnd(firstId);
    const [, failure] = await receiver.waitFor('/e2e', 2);
    expect(JSON.parse(failure.body)).toMatchObject({ type: 'execution.failed', run: { id: firstId, failingStep: { step: 'fail' } } });

    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`${portal.url}/executions/${firstId}`);
    await page.getByRole('button', { name: 'Run again' }).waitFor();
    await page.getByRole('button', { name: 'Retry failed nodes' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/executions/') && !url.pathname.endsWith(firstId));
    await page.getByRole('link', { name: firstId.slice(0, 8) }).waitFor();
    await page.close();
  });

  it('shows an operator no Notifiers page', async () => {
    const page = await (await browser.newContext()).newPage();
    await signIn(page, OPERATOR.username, OPERATOR.password);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Executions' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Notifiers' }).count()).toBe(0);
    await page.goto(`${portal.url}/notifiers`);
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    await page.close();
  });
});
