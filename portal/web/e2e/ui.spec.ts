/**
 * The portal UI end to end, in real headless Chromium (Debian's, driven by playwright-core) against a portal the
 * test starts on its own database: sign in, run demo.hello and watch its live log, find it in Executions and
 * Audit, export the audit log; create an Alertmanager hook and see what a delivery to it caused; scale a pool and
 * decide an operator's request as admin, while a viewer may not scale and an operator's large change waits; an
 * operator sees neither Audit nor Admin. Screenshots of the main pages go to
 * portal/web/e2e/screenshots/ (not committed).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
// The end-to-end test drives the whole product, so it starts the portal with the API's own test harness.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ADMIN_PASSWORD, createTestEnv, destroyTestEnv, Portal, startPortal, TestEnv } from '../../api/test/harness';

const ROOT = join(__dirname, '..', '..', '..');
const WEB_DIR = join(ROOT, 'dist', 'portal', 'web', 'browser');
const SCREENSHOTS = join(__dirname, 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OPERATOR = { username: 'olga', password: 'operator-password-1' };
const VIEWER = { username: 'vera', password: 'viewer-password-1' };
const BIG_LOG_LINES = 100_000;

/**
 * Pools whose provider says yes and does nothing, so scaling them starts no real node (the shipped demo pool would
 * start agents): no node ever matches their selectors, and each action ends failed, saying what was seen.
 */
const NOOP_POOLS = `
apiVersion: baton/v1
kind: Runbook
id: e2e.noop-provider
title: A provider that pretends
params:
  count: { type: integer, required: true }
targets: { local: true }
steps:
  - id: pretend
    run: echo "pretending to change $COUNT node(s)"
${['e2e.pool', 'e2e.approval-pool']
  .map(
    (id) => `---
apiVersion: baton/v1
kind: Pool
id: ${id}
selector: { labels: { nothing: "${id}" } }
min: 0
max: 3
operatorLimit: 1
settleTimeout: 2s
scaleOut: { runbook: e2e.noop-provider }
scaleIn: { runbook: e2e.noop-provider }
`,
  )
  .join('')}`;

/** The shipped runbooks plus one that writes a long, coloured log and two harmless pools. */
function e2eRunbooks(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-ui-runbooks-'));
  cpSync(join(ROOT, 'runbooks'), dir, { recursive: true });
  writeFileSync(
    join(dir, 'big-log.yaml'),
    [
      'apiVersion: baton/v1',
      'kind: Runbook',
      'id: e2e.big-log',
      'title: Big log',
      'targets: { local: true }',
      'steps:',
      '  - id: write',
      `    run: awk 'BEGIN { for (i = 1; i <= ${BIG_LOG_LINES}; i++) printf "\\033[32mline %d\\033[0m ok\\n", i }'`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'e2e-pools.yaml'), NOOP_POOLS);
  return dir;
}

jest.setTimeout(120_000);

let env: TestEnv;
let portal: Portal;
let browser: Browser;
let runbooksDir: string;

/**
 * The UI as the sources say now: `nx run web:build` takes about 20 s on a fresh clone and a moment when Nx's cache
 * already holds this build. BATON_E2E_SKIP_BUILD=1 uses dist/ as it is.
 */
function ensureBuiltUi(): void {
  if (process.env.BATON_E2E_SKIP_BUILD === '1' && existsSync(join(WEB_DIR, 'index.html'))) return;
  execFileSync(process.execPath, [require.resolve('nx/bin/nx'), 'run', 'web:build'], { cwd: ROOT, stdio: 'pipe' });
  if (!existsSync(join(WEB_DIR, 'index.html'))) throw new Error(`the UI build left no ${WEB_DIR}/index.html`);
}

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${portal.url}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Catalog' }).waitFor();
}

async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  return context.newPage();
}

beforeAll(async () => {
  ensureBuiltUi();
  mkdirSync(SCREENSHOTS, { recursive: true });
  runbooksDir = e2eRunbooks();
  env = await createTestEnv(runbooksDir);
  portal = await startPortal(env, { BATON_WEB_DIR: WEB_DIR });
  const created = await portal.request('POST', '/api/v1/users', { ...OPERATOR, roles: [{ role: 'viewer' }, { role: 'operator' }] });
  if (created.status !== 201) throw new Error(`could not create the operator: ${created.text}`);
  const viewer = await portal.request('POST', '/api/v1/users', { ...VIEWER, roles: [{ role: 'viewer' }] });
  if (viewer.status !== 201) throw new Error(`could not create the viewer: ${viewer.text}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await portal?.close();
  if (env) await destroyTestEnv(env);
  if (runbooksDir) rmSync(runbooksDir, { recursive: true, force: true });
});

describe('portal UI', () => {
  it('runs demo.hello from the catalog, streams its log, and shows it in Executions and Audit', async () => {
    const page = await newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Catalog', 'Executions', 'Jobs', 'Nodes', 'Pools', 'Alerts', 'Audit', 'Admin'])
      await nav.getByRole('link', { name }).waitFor();
    await page.getByRole('link', { name: 'Say hello' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'catalog.png') });

    await page.getByLabel('Search runbooks').fill('hello');
    await page.getByRole('link', { name: 'Say hello' }).click();
    await page.getByRole('heading', { name: 'Say hello' }).waitFor();

    // The form judges the value with the API's own rules before anything is sent.
    const name = page.getByLabel('name', { exact: false }).first();
    await name.fill('not ok!');
    await name.blur();
    await page.getByText('must match ^[A-Za-z0-9 _.-]{1,64}$').waitFor();
    await name.fill('Baton UI');
    await page.screenshot({ path: join(SCREENSHOTS, 'runbook.png') });
    await page.getByRole('button', { name: 'Run' }).click();

    await page.waitForURL(/\/executions\/[0-9a-f-]{36}$/);
    const executionId = page.url().split('/').pop()!;
    await page.getByRole('log', { name: 'Execution log' }).getByText('hello, Baton UI').waitFor();
    await page.getByText('Ended (succeeded)').waitFor();
    await page.getByRole('status').filter({ hasText: 'succeeded' }).first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'execution.png'), fullPage: true });
    await page.getByRole('button', { name: 'Use dark theme' }).click();
    expect(await page.evaluate(() => document.documentElement.dataset['theme'])).toBe('dark');
    await page.screenshot({ path: join(SCREENSHOTS, 'execution-dark.png'), fullPage: true });
    await page.getByRole('button', { name: 'Use light theme' }).click();

    await nav.getByRole('link', { name: 'Executions' }).click();
    await page.getByRole('heading', { name: 'Executions' }).waitFor();
    await page.locator(`a[href="/executions/${executionId}"]`).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'executions.png') });

    // The shipped jobs are listed with their schedule; the first opens with its next fire times.
    await nav.getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).first().waitFor();
    await page.getByText('ops.nightly-disk-report').first().waitFor();
    await page
      .getByRole('button', { name: /Run job .* now/ })
      .first()
      .waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'jobs.png'), fullPage: true });

    await nav.getByRole('link', { name: 'Nodes' }).click();
    await page.getByRole('cell', { name: 'local', exact: true }).first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'nodes.png') });

    await nav.getByRole('link', { name: 'Audit' }).click();
    await page.getByText(/Chain verified/).waitFor();
    await page.getByLabel('Target').fill(`execution:${executionId}`);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: 'execution.started' }).waitFor();
    await page.getByRole('cell', { name: 'execution.finished' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'audit.png') });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^baton-audit-.*\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toContain(`execution:${executionId}`);
    expect(csv).toContain('execution.started');
    expect(csv).not.toContain('auth.login'); // the export follows the filters in force

    await nav.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Users and roles' }).waitFor();
    await page.getByRole('cell', { name: OPERATOR.username, exact: true }).waitFor();
    await page.getByLabel('Token name').fill('ci script');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByText('Copy this token now').waitFor();
    expect(await page.getByLabel('New API token', { exact: true }).textContent()).toMatch(/^bt_/);
    await page.getByRole('button', { name: 'Revoke token ci script' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'admin.png'), fullPage: true });
    await page.context().close();
  });

  it('keeps a 100,000-line log in a virtual list: few rows in the page, the last line reachable', async () => {
    const id = await portal.run('e2e.big-log', {});
    await portal.waitForEnd(id, 60_000);
    const page = await newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`${portal.url}/executions/${id}`);
    await page.getByText(`${BIG_LOG_LINES} lines`).waitFor({ timeout: 60_000 });
    const log = page.getByRole('log', { name: 'Execution log' });
    // Following: the view ends at the last line, coloured by its ANSI codes, without 100,000 rows in the DOM.
    await log.getByText(`line ${BIG_LOG_LINES} ok`).waitFor();
    expect(await log.locator('.log-line').count()).toBeLessThan(200);
    const colour = await log.getByText(`line ${BIG_LOG_LINES}`, { exact: true }).evaluate((e) => getComputedStyle(e).color);
    expect(colour).not.toBe(await log.evaluate((e) => getComputedStyle(e).color));

    await page.getByLabel('Search log').fill('line 4242 ');
    await log.getByText('line 4242', { exact: true }).waitFor();
    await page.getByText(`1 of ${BIG_LOG_LINES} lines`).waitFor();
    await page.context().close();
  });

  it('creates an Alertmanager hook, shows its token once, and lists a delivery with what it caused', async () => {
    const page = await newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
    await page.getByRole('heading', { name: 'Alert rules' }).waitFor();
    await page.getByRole('button', { name: 'Reset breaker of ops.service-down' }).waitFor();

    await page.getByLabel('Hook name').fill('e2e-alertmanager');
    await page.getByRole('button', { name: 'Create hook' }).click();
    await page.getByText('Copy this token now').waitFor();
    const token = (await page.getByLabel('New hook token', { exact: true }).textContent())!.trim();
    expect(token).toMatch(/^bh_/);
    expect(await page.getByLabel('Alertmanager receiver').textContent()).toContain('/api/v1/hooks/alertmanager/e2e-alertmanager');

    // Alertmanager's webhook payload (version 4): one alert the shipped rule remediates, one no rule matches.
    const alert = (labels: Record<string, string>, fingerprint: string) => ({
      status: 'firing',
      labels,
      annotations: {},
      startsAt: new Date().toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus/graph',
      fingerprint,
    });
    const payload = {
      version: '4',
      groupKey: '{}:{alertname="ServiceDown"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'baton',
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://alertmanager:9093',
      alerts: [
        alert({ alertname: 'ServiceDown', severity: 'critical', service: 'nginx', instance: 'local:9100' }, 'e2e-service-down'),
        alert({ alertname: 'DiskFull', instance: 'local:9100' }, 'e2e-disk-full'),
      ],
    };
    const answer = await fetch(`${portal.url}/api/v1/hooks/alertmanager/e2e-alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(payload),
    });
    expect(answer.status).toBe(202);

    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByText('DiskFull (firing)').waitFor();
    await page.getByText('no rule matched').waitFor();
    await page.getByText('started a remediation (rule ops.service-down)').waitFor();
    await page.getByRole('link', { name: /^execution [0-9a-f]{8}$/ }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'alerts.png'), fullPage: true });

    // Shown once: the page opened again lists the hook, never its token.
    await page.reload();
    await page.getByRole('cell', { name: 'e2e-alertmanager', exact: true }).waitFor();
    expect(await page.getByText('Copy this token now').count()).toBe(0);
    expect(await page.getByText(token).count()).toBe(0);
    await page.context().close();
  });

  it('scales a pool from the Pools page, shows the portal refusing beyond its bounds, and decides a waiting request', async () => {
    const page = await newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pools' }).click();
    await page.getByRole('heading', { name: 'Pools', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Show details of pool demo.local-pool' }).waitFor();

    await page.getByRole('button', { name: 'Show details of pool e2e.pool' }).click();
    await page.getByRole('heading', { name: 'Pool e2e.pool' }).waitFor();
    await page.getByRole('button', { name: 'Add nodes', exact: true }).click();
    await page.getByLabel('Nodes to add').fill('1');
    await page.getByLabel('Reason (required)').fill('e2e: more capacity');
    await page.getByText('Desired goes from 0 to 1.').waitFor();
    await page.getByRole('button', { name: 'Request change' }).click();
    await page.getByRole('status').getByText('Scaling 0 → 1 (+1) started.').waitFor();

    // The action in the history, with its provider execution; no node joins, so its verification fails and says so.
    const history = page.getByRole('table', { name: 'Action history' });
    const row = history.getByRole('row').filter({ hasText: 'e2e: more capacity' });
    await row.getByRole('link', { name: /^execution [0-9a-f]{8}$/ }).waitFor();
    await row.getByText('not settled: 0 live, target 1 (seen: none)').waitFor({ timeout: 30_000 });
    expect(await row.getByRole('cell').nth(1).textContent()).toContain('admin');

    // Beyond the bounds: the portal's own words, beside the form.
    await page.getByRole('button', { name: 'Remove nodes', exact: true }).click();
    await page.getByLabel('Nodes to remove').fill('3');
    await page.getByLabel('Reason (required)').fill('e2e: too far');
    await page.getByRole('button', { name: 'Request change' }).click();
    await page.getByRole('alert').getByText("scaling to -2 would go below the pool's min of 0 (desired now 1)").waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'pools.png'), fullPage: true });
    await page.getByRole('button', { name: 'Cancel' }).click();

    // An operator's change beyond operatorLimit waits for an admin, who rejects it.
    const operator = new Portal(portal.app, portal.url);
    await operator.login(OPERATOR.username, OPERATOR.password);
    const asked = await operator.request('POST', '/api/v1/pools/e2e.approval-pool/scale', { by: 2, reason: 'e2e: operator asks for 2' });
    expect(asked.body).toMatchObject({ status: 'pending_approval' });
    await page.getByRole('button', { name: 'Refresh' }).click();
    // The list counts what waits for approval in each pool.
    await page.getByRole('row').filter({ hasText: 'e2e.approval-pool' }).locator('.status.pending').waitFor();
    await page.getByRole('button', { name: 'Show details of pool e2e.approval-pool' }).click();
    const waiting = page
      .getByRole('table', { name: 'Waiting for approval' })
      .getByRole('row')
      .filter({ hasText: 'e2e: operator asks for 2' });
    await waiting.getByRole('button', { name: 'Approve' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'pools-approval.png'), fullPage: true });
    await waiting.getByRole('textbox').fill('not today');
    await waiting.getByRole('button', { name: 'Reject' }).click();
    await page.getByRole('status').getByText('Rejected 0 → 2 (+2) asked by olga.').waitFor();
    const decided = page.getByRole('table', { name: 'Action history' }).getByRole('row').filter({ hasText: 'e2e: operator asks for 2' });
    await decided.getByText('rejected by admin').waitFor();
    await decided.getByText('not today').waitFor();
    await page.context().close();
  });

  it('lets a viewer read pools but not scale them, and holds an operator’s large change for an admin', async () => {
    const viewerPage = await newPage();
    await signIn(viewerPage, VIEWER.username, VIEWER.password);
    await viewerPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pools' }).click();
    await viewerPage.getByRole('button', { name: 'Show details of pool e2e.approval-pool' }).click();
    await viewerPage.getByText('Your roles do not allow scaling this pool; an operator, editor or admin may.').waitFor();
    for (const name of ['Add nodes', 'Remove nodes', 'Scale to'])
      expect(await viewerPage.getByRole('button', { name, exact: true }).isDisabled()).toBe(true);
    await viewerPage.context().close();

    const page = await newPage();
    await signIn(page, OPERATOR.username, OPERATOR.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pools' }).click();
    await page.getByRole('button', { name: 'Show details of pool e2e.approval-pool' }).click();
    await page.getByRole('button', { name: 'Add nodes', exact: true }).click();
    await page.getByLabel('Nodes to add').fill('3');
    await page.getByLabel('Reason (required)').fill('e2e: operator asks for 3');
    await page.getByText("more than the operator limit of 1: it waits for an admin's approval").waitFor();
    await page.getByRole('button', { name: 'Request change' }).click();
    await page.getByRole('status').getByText("Requested 0 → 3 (+3): it waits for an admin's approval").waitFor();
    const waiting = page
      .getByRole('table', { name: 'Waiting for approval' })
      .getByRole('row')
      .filter({ hasText: 'e2e: operator asks for 3' });
    await waiting.waitFor();
    await page.getByText('Only admins approve or reject a change larger than the operator limit.').waitFor();
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Reject' }).count()).toBe(0);
    await page.context().close();
  });

  it('shows an operator neither Audit nor Admin, and no admin page by address', async () => {
    const page = await newPage();
    await signIn(page, OPERATOR.username, OPERATOR.password);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Executions' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Audit' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Admin' }).count()).toBe(0);

    // Alerts are for everyone to read; hooks and breakers are an admin's.
    await nav.getByRole('link', { name: 'Alerts' }).click();
    await page.getByRole('heading', { name: 'Alert rules' }).waitFor();
    await page.getByText('Only admins create and delete hooks.').waitFor();
    expect(await page.getByRole('button', { name: 'Create hook' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Reset breaker/ }).count()).toBe(0);

    await page.goto(`${portal.url}/admin`);
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Users and roles' }).count()).toBe(0);

    // A runbook only admins may run: Run is disabled, and says why.
    await page.goto(`${portal.url}/runbooks/demo.admin-only`);
    await page.getByText('Only admins may run this runbook.').waitFor();
    expect(await page.getByRole('button', { name: 'Run' }).isDisabled()).toBe(true);
    await page.context().close();
  });

  it('fits a tablet: no page scrolls sideways, every page of the main navigation reachable', async () => {
    const page = await newPage({ width: 768, height: 1024 });
    await signIn(page, 'admin', ADMIN_PASSWORD);
    const id = await portal.run('demo.hello', { params: { name: 'tablet' } });
    await portal.waitForEnd(id);
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const [link, heading] of [
      ['Catalog', 'Catalog'],
      ['Executions', 'Executions'],
      ['Jobs', 'Jobs'],
      ['Nodes', 'Nodes'],
      ['Alerts', 'Alerts'],
      ['Pools', 'Pools'],
      ['Audit', 'Audit log'],
      ['Admin', 'Admin'],
    ]) {
      await nav.getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect({ page: link, overflow }).toEqual({ page: link, overflow: 0 });
    }
    await page.goto(`${portal.url}/executions/${id}`);
    await page.getByText('hello, tablet').first().waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'tablet-execution.png') });
    await page.context().close();
  });
});
