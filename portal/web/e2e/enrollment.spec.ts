/**
 * Agent enrollment in the UI, end to end in headless Chromium against a portal that does not auto-accept: an admin
 * creates an enrollment token on the Admin page and gets its install command; a real agent started with that token
 * waits as pending with the fingerprint it printed; the admin accepts it on the Nodes page, the node comes online,
 * and the admin revokes it with a reason. An operator sees no Agents section. Screenshots go to e2e/screenshots/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
// The end-to-end test drives the whole product, so it starts the portal and an agent with the API's own test harness.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ADMIN_PASSWORD, AgentProcess, createTestEnv, destroyTestEnv, Portal, startPortal, TestEnv } from '../../api/test/harness';

const ROOT = join(__dirname, '..', '..', '..');
const WEB_DIR = join(ROOT, 'dist', 'portal', 'web', 'browser');
const SCREENSHOTS = join(__dirname, 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OPERATOR = { username: 'otto', password: 'operator-password-2' };

jest.setTimeout(120_000);

let env: TestEnv;
let portal: Portal;
let browser: Browser;
const agents: AgentProcess[] = [];

/** As in ui.spec.ts: the UI as the sources say now, unless BATON_E2E_SKIP_BUILD=1 and dist/ holds a build. */
function ensureBuiltUi(): void {
  if (process.env.BATON_E2E_SKIP_BUILD === '1' && existsSync(join(WEB_DIR, 'index.html'))) return;
  execFileSync(process.execPath, [require.resolve('nx/bin/nx'), 'run', 'web:build'], { cwd: ROOT, stdio: 'pipe' });
  if (!existsSync(join(WEB_DIR, 'index.html'))) throw new Error(`the UI build left no ${WEB_DIR}/index.html`);
}

async function signIn(username: string, password: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${portal.url}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Catalog' }).waitFor();
  return page;
}

/** The fingerprint an agent prints at first start, as an operator reads it on the node. */
async function printedFingerprint(agent: AgentProcess, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = /^fingerprint (\S+)/m.exec(agent.output);
    if (match) return match[1];
    if (Date.now() > deadline) throw new Error(`agent ${agent.name} printed no fingerprint:\n${agent.output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Presses the section's Refresh until the locator shows up (the page does not poll). */
async function refreshUntilVisible(page: Page, button: string, target: ReturnType<Page['locator']>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await target.isVisible())) {
    if (Date.now() > deadline) throw new Error(`not shown after ${timeoutMs} ms: ${target}`);
    await page.getByRole('button', { name: button, exact: true }).click();
    await page.waitForTimeout(300);
  }
}

beforeAll(async () => {
  ensureBuiltUi();
  mkdirSync(SCREENSHOTS, { recursive: true });
  env = await createTestEnv();
  portal = await startPortal(env, { BATON_WEB_DIR: WEB_DIR, BATON_AUTO_ACCEPT: 'false' });
  const created = await portal.request('POST', '/api/v1/users', { ...OPERATOR, roles: [{ role: 'operator' }] });
  if (created.status !== 201) throw new Error(`could not create the operator: ${created.text}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await browser?.close();
  await portal?.close();
  if (env) await destroyTestEnv(env);
});

describe('agent enrollment in the UI', () => {
  it('creates a token, accepts the agent that enrolled with it after comparing fingerprints, then revokes it', async () => {
    const page = await signIn('admin', ADMIN_PASSWORD);
    const nav = page.getByRole('navigation', { name: 'Main' });

    await nav.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Enrollment tokens' }).waitFor();
    await page.getByLabel('Expires in').selectOption('1h');
    await page.getByLabel('Max uses').fill('2');
    await page.getByLabel('Labels', { exact: true }).fill('role=e2e');
    await page.getByLabel('Description').fill('e2e rollout');
    await page.getByRole('button', { name: 'Create enrollment token' }).click();
    await page.getByText('Copy this enrollment token now — it is not shown again.').waitFor();
    const token = (await page.getByLabel('New enrollment token', { exact: true }).textContent())!.trim();
    const command = page.getByLabel('Install command');
    expect(await command.textContent()).toBe(
      `curl -fsSL ${portal.url}/install/agent.sh | sudo sh -s -- --token ${token} --name "$(hostname)" --labels role=e2e`,
    );
    await page.getByLabel('Node name').fill('e2e-web-1');
    expect(await command.textContent()).toContain('--name e2e-web-1 --labels role=e2e');
    await page.screenshot({ path: join(SCREENSHOTS, 'admin-enrollment-token.png'), fullPage: true });

    // On the node: the agent with that token prints its fingerprint and waits for an admin.
    const agent = new AgentProcess('e2e-web-1', portal, 'role=e2e', { BATON_ENROLL_TOKEN: token }).start();
    agents.push(agent);
    const fingerprint = await printedFingerprint(agent);

    await nav.getByRole('link', { name: 'Nodes' }).click();
    const row = page.locator('tr[data-agent="e2e-web-1"]');
    await refreshUntilVisible(page, 'Refresh agents', row);
    await row.getByText('pending', { exact: true }).waitFor();
    expect((await row.locator('code').textContent())!.trim()).toBe(fingerprint);
    await page.screenshot({ path: join(SCREENSHOTS, 'nodes-agents-pending.png'), fullPage: true });

    await page.getByRole('button', { name: 'Accept agent e2e-web-1' }).click();
    await page.getByText('Agent e2e-web-1 accepted.').waitFor();
    await row.getByText('accepted', { exact: true }).waitFor();
    const nodeRow = page.locator('table').first().getByRole('row').filter({ hasText: 'e2e-web-1' });
    await refreshUntilVisible(page, 'Refresh', nodeRow.getByText('online', { exact: true }));

    await page.getByRole('button', { name: 'Revoke agent e2e-web-1' }).click();
    await page.getByText('its running node runs end lost, and it can never reconnect with that key').waitFor();
    await page.getByLabel('Reason (optional)').fill('e2e: node retired');
    await page.getByRole('button', { name: 'Revoke e2e-web-1', exact: true }).click();
    await page.getByText('Agent e2e-web-1 revoked.').waitFor();
    await row.getByText('revoked', { exact: true }).waitFor();
    await row.getByText('e2e: node retired').waitFor();
    expect(await row.getByRole('button').count()).toBe(0);

    // The token's list shows the use it gave, and never the token again.
    await nav.getByRole('link', { name: 'Admin' }).click();
    const tokenRow = page.getByRole('row').filter({ hasText: 'e2e rollout' });
    await tokenRow.getByText('1 of 2').waitFor();
    expect(await page.content()).not.toContain(token);
    await page.context().close();
  });

  it('shows an operator the Nodes page without the Agents section', async () => {
    const page = await signIn(OPERATOR.username, OPERATOR.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Nodes' }).click();
    await page.getByRole('heading', { name: 'Nodes' }).waitFor();
    await page.getByRole('cell', { name: 'local', exact: true }).first().waitFor();
    expect(await page.getByRole('heading', { name: 'Agents' }).count()).toBe(0);
    await page.context().close();
  });
});
