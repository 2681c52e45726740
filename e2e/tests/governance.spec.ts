import type { APIRequestContext, Browser, Page } from '@playwright/test';
import { newAccount, signIn, signUp, type TestAccount } from '../support/accounts.js';
import { E2E_ENV } from '../support/server-env.js';
import { expect, test } from '../support/test.js';
import { inboundMedia, trackPeerConnections } from '../support/webrtc.js';

/**
 * Governance through the web app: an admin suspends a streamer who is live (the broadcast ends for
 * its viewer); a viewer reports a message and a moderator resolves it from the console's queue; a
 * streamer appoints a channel moderator who then deletes a message; the audit page shows each action.
 */
test.describe.configure({ mode: 'serial', timeout: 120_000 });

const ADMIN = 'admin@fusionflow.test';
const chat = (page: Page) => page.getByTestId('chat');
const messageFrom = (page: Page, author: string) =>
  chat(page).locator(`[data-testid="chat-message"][data-author="${author}"]`);

async function newPage(browser: Browser): Promise<Page> {
  return (await browser.newContext()).newPage();
}
async function signInAdmin(page: Page): Promise<void> {
  const password = process.env[E2E_ENV.demoPassword];
  expect(password, 'the demo admin password from the start-up banner').toBeTruthy();
  await signIn(page, { email: ADMIN, password: password! });
}
async function userId(request: APIRequestContext, account: TestAccount): Promise<string> {
  const res = await request.post('/api/auth/login', { data: { email: account.email, password: account.password } });
  return (await res.json()).user.id as string;
}
async function createLiveRoom(page: Page, title: string): Promise<string> {
  await page.goto('/create');
  await page.getByLabel(/^Live broadcast/).check();
  await page.getByLabel('Title', { exact: true }).fill(title);
  await page.getByRole('button', { name: 'Create room' }).click();
  await expect(page).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  return new URL(page.url()).pathname;
}
async function say(page: Page, text: string): Promise<void> {
  await expect(chat(page)).toHaveAttribute('data-status', 'ready');
  const box = chat(page).getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}
async function openUser(admin: Page, name: string): Promise<void> {
  await admin.goto('/admin');
  await admin.getByLabel('Search by name or email').fill(name);
  await admin.getByRole('button', { name: 'Search' }).click();
  await admin.getByTestId('user-results').getByRole('button', { name }).click();
  await expect(admin.getByTestId('user-detail')).toBeVisible();
}

let moderator: TestAccount;

test('an admin suspends a streamer who is live: the broadcast ends for its viewer', async ({ browser, page }) => {
  const streamer = newAccount('streamer');
  await signUp(page, streamer);
  await createLiveRoom(page, `Suspended show ${Date.now()}`);
  await expect
    .poll(() => page.getByTestId('studio-preview').evaluate((v: HTMLVideoElement) => v.videoWidth))
    .toBeGreaterThan(0);
  await page.getByTestId('go-live').click();
  await expect(page.getByTestId('room-status')).toHaveText('Live', { timeout: 15_000 });

  const viewerContext = await browser.newContext();
  await trackPeerConnections(viewerContext);
  const viewer = await viewerContext.newPage();
  await viewer.goto(page.url());
  await expect(viewer.getByTestId('watch')).toBeVisible();
  await expect.poll(async () => (await inboundMedia(viewer)).framesDecoded, { timeout: 30_000 }).toBeGreaterThan(0);

  const admin = await newPage(browser);
  await signInAdmin(admin);
  await openUser(admin, streamer.displayName);
  await admin.getByLabel('Reason').fill('stolen content');
  await admin.getByRole('button', { name: 'Suspend' }).click();
  await expect(admin.getByTestId('user-status')).toContainText('Suspended: stolen content');
  await admin.screenshot({ path: 'test-results/governance-users.png', fullPage: true });

  await expect(viewer.getByTestId('stream-ended')).toBeVisible({ timeout: 15_000 });
  // The streamer cannot sign back in, and is told why.
  const again = await newPage(browser);
  await again.goto('/signin');
  await again.getByLabel('Email').fill(streamer.email);
  await again.getByLabel('Password', { exact: true }).fill(streamer.password);
  await again.getByRole('button', { name: 'Sign in' }).click();
  await expect(again.getByRole('alert')).toContainText('suspended');
});

test('a viewer reports a message; a moderator resolves it from the queue', async ({ browser, page }) => {
  // The admin makes a moderator in the console.
  moderator = newAccount('viewer', `Mod ${Date.now().toString(36)}`);
  const modPage = await newPage(browser);
  await signUp(modPage, moderator);
  const admin = await newPage(browser);
  await signInAdmin(admin);
  await openUser(admin, moderator.displayName);
  await admin.getByLabel('Change role').selectOption('moderator');
  await admin.getByRole('button', { name: 'Save role' }).click();
  await expect(admin.getByTestId('user-detail')).toContainText('Moderator');

  const streamer = newAccount('streamer');
  await signUp(page, streamer);
  const roomPath = await createLiveRoom(page, `Reported chat ${Date.now()}`);
  const troll = newAccount('viewer', `Troll ${Date.now().toString(36)}`);
  const trollPage = await newPage(browser);
  await signUp(trollPage, troll);
  await trollPage.goto(roomPath);
  await say(trollPage, 'everyone here is an idiot');
  const reporter = newAccount('viewer');
  const reporterPage = await newPage(browser);
  await signUp(reporterPage, reporter);
  await reporterPage.goto(roomPath);
  const bad = messageFrom(reporterPage, troll.displayName);
  await expect(bad).toHaveCount(1);
  await bad.getByTestId('chat-report').locator('summary').click();
  await bad.getByLabel('Why?').selectOption('harassment');
  await bad.getByTestId('chat-report-send').click();
  await expect(bad.getByRole('status')).toHaveText('Thanks — moderators will look at it.');

  await signIn(modPage, moderator); // the new role comes with a new sign-in
  await modPage.goto('/admin');
  await modPage.getByTestId('tab-reports').click();
  const row = modPage.getByTestId('report-row').filter({ hasText: 'everyone here is an idiot' });
  await row.getByRole('button', { name: 'Claim' }).click();
  await row.getByRole('button', { name: 'Delete message' }).click();
  await expect(modPage.getByTestId('report-row').filter({ hasText: 'everyone here is an idiot' })).toHaveCount(0);
  await expect(messageFrom(reporterPage, troll.displayName)).toHaveCount(0);
  // The reporter sees it was handled, on their profile.
  await reporterPage.goto('/profile');
  await expect(reporterPage.getByTestId('my-reports').locator('li').first()).toContainText('Handled (Delete message)');
});

test('a streamer appoints a channel moderator, who then deletes a message', async ({ browser, page, request }) => {
  const streamer = newAccount('streamer');
  await signUp(page, streamer);
  const roomPath = await createLiveRoom(page, `Moderated chat ${Date.now()}`);
  const helper = newAccount('viewer', `Helper ${Date.now().toString(36)}`);
  const helperPage = await newPage(browser);
  await signUp(helperPage, helper);
  await page.getByLabel('Add moderator (user id)').fill(await userId(request, helper));
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByTestId('room-moderators')).toContainText(helper.displayName);

  const spammer = newAccount('viewer', `Spammer ${Date.now().toString(36)}`);
  const spammerPage = await newPage(browser);
  await signUp(spammerPage, spammer);
  await spammerPage.goto(roomPath);
  await say(spammerPage, 'buy cheap followers now');
  await helperPage.goto(roomPath);
  const spam = messageFrom(helperPage, spammer.displayName);
  await expect(spam).toHaveCount(1);
  await spam.getByTestId('chat-menu').locator('summary').click();
  await spam.getByTestId('chat-delete').click();
  await expect(messageFrom(helperPage, spammer.displayName)).toHaveCount(0);
  await expect(messageFrom(spammerPage, spammer.displayName)).toHaveCount(0);
});

test('the audit page shows each action', async ({ page }) => {
  await signInAdmin(page);
  await page.goto('/admin');
  await page.getByTestId('tab-audit').click();
  const rows = page.getByTestId('audit-row');
  for (const action of [
    'user.suspend',
    'user.role',
    'report.claim',
    'report.resolve',
    'room.moderator_add',
    'chat.delete',
  ]) {
    await expect(rows.and(page.locator(`[data-action="${action}"]`)).first()).toBeVisible();
  }
  await expect(rows.and(page.locator('[data-action="chat.delete"]')).first()).toContainText('channel_moderator');
  await page.screenshot({ path: 'test-results/governance-audit.png', fullPage: true });
  await page.getByTestId('tab-live').click();
  await page.screenshot({ path: 'test-results/governance-live.png', fullPage: true });
});
