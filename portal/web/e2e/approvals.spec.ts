/**
 * Four-eyes approvals in real headless Chromium against a portal on the local node: an operator runs a runbook that
 * needs an admin's approval and sees it wait (no Approve for the requester); the admin sees the count in the top
 * bar, approves it from the Approvals inbox, and the run goes on to succeed. A second run rejected from the inbox, with
 * the comment the form requires, ends rejected with that reason. Screenshots go to portal/web/e2e/screenshots/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
// The end-to-end test drives the whole product, so it starts the portal with the API's own test harness.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ADMIN_PASSWORD, createTestEnv, destroyTestEnv, startPortal, type Portal, type TestEnv } from '../../api/test/harness';

const ROOT = join(__dirname, '..', '..', '..');
const WEB_DIR = join(ROOT, 'dist', 'portal', 'web', 'browser');
const SCREENSHOTS = join(__dirname, 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OPERATOR = { username: 'opal', password: 'operator-password-3' };

const RUNBOOKS = `
apiVersion: baton/v1
kind: Runbook
id: e2e.approved-restart
title: Restart, with an admin's approval
params:
  reason: { type: string, default: "routine" }
approval:
  approvers: { roles: [admin] }
targets: { local: true }
steps:
  - id: restart
    run: echo "restarting because $REASON"
`;

jest.setTimeout(180_000);

let env: TestEnv;
let portal: Portal;
let browser: Browser;
let runbooksDir: string;

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

async function newPage(): Promise<Page> {
  return (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
}

/** The operator presses Run on the runbook's page and lands on the new execution; returns its id. */
async function requestRun(page: Page, reason: string): Promise<string> {
  await page.goto(`${portal.url}/runbooks/e2e.approved-restart`);
  await page.getByRole('heading', { name: "Restart, with an admin's approval" }).waitFor();
  await page.getByText('Runs wait for 1 approval from an admin before they start').waitFor();
  await page.getByLabel('reason').fill(reason);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForURL(/\/executions\/[0-9a-f-]{36}$/);
  return page.url().split('/').pop()!;
}

beforeAll(async () => {
  ensureBuiltUi();
  mkdirSync(SCREENSHOTS, { recursive: true });
  runbooksDir = mkdtempSync(join(tmpdir(), 'baton-e2e-approvals-'));
  writeFileSync(join(runbooksDir, 'approved.yaml'), RUNBOOKS);
  env = await createTestEnv(runbooksDir);
  portal = await startPortal(env, { BATON_WEB_DIR: WEB_DIR, NATS_URL: '' });
  const created = await portal.request('POST', '/api/v1/users', { ...OPERATOR, roles: [{ role: 'operator' }] });
  if (created.status !== 201) throw new Error(`could not create the operator: ${created.text}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await portal?.close();
  if (env) await destroyTestEnv(env);
  if (runbooksDir) rmSync(runbooksDir, { recursive: true, force: true });
});

describe('approvals in the UI', () => {
  it('lets an admin approve from the inbox a run an operator requested, which then runs to success', async () => {
    const operator = await newPage();
    await signIn(operator, OPERATOR.username, OPERATOR.password);
    const id = await requestRun(operator, 'memory leak');

    const operatorPanel = operator.getByRole('region', { name: 'Approval' });
    await operator.getByRole('status').filter({ hasText: 'waiting for approval' }).first().waitFor();
    await operatorPanel.getByText('You requested this run: approval must come from someone else (an admin).').waitFor();
    expect(await operatorPanel.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await operator.screenshot({ path: join(SCREENSHOTS, 'execution-waiting-for-approval.png'), fullPage: true });

    const admin = await newPage();
    await signIn(admin, 'admin', ADMIN_PASSWORD);
    const nav = admin.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Approvals 1 waiting for your decision' }).click();
    await admin.getByRole('heading', { name: 'Approvals' }).waitFor();
    const row = admin.locator(`tr[data-execution="${id}"]`);
    await row.getByRole('cell', { name: OPERATOR.username, exact: true }).waitFor();
    await row.getByText('0 of 1 approval').waitFor();
    await admin.screenshot({ path: join(SCREENSHOTS, 'approvals.png') });

    await admin.getByRole('button', { name: `Approve run ${id.slice(0, 8)} of e2e.approved-restart` }).click();
    await admin.getByText('Approved: the run of e2e.approved-restart has the approvals it needs').waitFor();
    await admin.getByText('Nothing waits for your decision.').waitFor();
    await nav.getByRole('link', { name: 'Approvals', exact: true }).waitFor();

    await admin.getByRole('link', { name: 'Open the run' }).click();
    await admin.waitForURL(`**/executions/${id}`);
    await admin.getByText('Ended (succeeded)').waitFor({ timeout: 30_000 });
    await admin.getByRole('log', { name: 'Execution log' }).getByText('restarting because memory leak').waitFor();
    await admin.getByRole('region', { name: 'Approval' }).getByText('admin approved').waitFor();

    // The operator's page follows the run to its end.
    await operator.getByRole('status').filter({ hasText: 'succeeded' }).first().waitFor({ timeout: 30_000 });
    expect((await portal.request('GET', `/api/v1/executions/${id}`)).body).toMatchObject({
      status: 'succeeded',
      approval: { requestedBy: OPERATOR.username, decisions: [{ user: 'admin', decision: 'approved' }] },
    });
    await operator.context().close();
    await admin.context().close();
  });

  it('rejects a run from the inbox only with a comment, and the run ends rejected with it', async () => {
    const operator = await newPage();
    await signIn(operator, OPERATOR.username, OPERATOR.password);
    const id = await requestRun(operator, 'during the sale');
    await operator.getByRole('status').filter({ hasText: 'waiting for approval' }).first().waitFor();

    const admin = await newPage();
    await signIn(admin, 'admin', ADMIN_PASSWORD);
    await admin.goto(`${portal.url}/approvals`);
    await admin.getByRole('button', { name: `Reject run ${id.slice(0, 8)} of e2e.approved-restart` }).click();
    const form = admin.getByRole('form', { name: 'Reject the run of e2e.approved-restart?' });
    await form.getByRole('button', { name: 'Reject run' }).click();
    await form.getByText('Say why you reject it.').waitFor();
    await form.getByLabel('Why (required)').fill('not during the sale');
    await admin.screenshot({ path: join(SCREENSHOTS, 'approvals-reject.png') });
    await form.getByRole('button', { name: 'Reject run' }).click();
    await admin.getByText('Rejected: the run of e2e.approved-restart will not start.').waitFor();

    await operator.getByText('rejected by admin: not during the sale', { exact: true }).waitFor({ timeout: 15_000 });
    await operator.getByRole('status').filter({ hasText: 'rejected' }).first().waitFor();
    expect((await portal.request('GET', `/api/v1/executions/${id}`)).body).toMatchObject({ status: 'rejected' });
    await operator.context().close();
    await admin.context().close();
  });
});
