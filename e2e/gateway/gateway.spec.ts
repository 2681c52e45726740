import { newAccount, signIn, signUp } from '../support/accounts.js';
import { closeAll, createCall, expectDecoding, joinCall, type Participant, participant } from '../support/calls.js';
import { E2E_ENV } from '../support/server-env.js';
import { expect, test } from '../support/test.js';
import { inboundMedia, trackPeerConnections } from '../support/webrtc.js';

/**
 * The browser through nginx (deploy/nginx/fusionflow.conf) on https://localhost:PORT: every page,
 * API call, WebSocket, WHIP/WHEP request and event stream passes the gateway; media goes to the SFU
 * and between the peers as in production.
 */
test.describe.configure({ timeout: 120_000 });
test.beforeEach(() => {
  test.skip(Boolean(process.env[E2E_ENV.gatewaySkip]), process.env[E2E_ENV.gatewaySkip]);
});

test('the demo admin signs in over HTTPS and reads the payouts and the diagnostics pages', async ({
  page,
  baseURL,
}) => {
  expect(baseURL).toMatch(/^https:\/\/localhost:\d+$/);
  const password = process.env[E2E_ENV.demoPassword];
  expect(password, 'the demo admin password from the start-up banner').toBeTruthy();
  await signIn(page, { email: 'admin@fusionflow.test', password: password! });
  await page.getByRole('link', { name: 'Payouts' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Payout requests' })).toBeVisible();

  await page.getByRole('link', { name: 'Diagnostics' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Diagnostics' })).toBeVisible();
  const check = (id: string) => page.locator(`[data-testid="diagnostic"][data-check="${id}"]`);
  await expect(page.getByTestId('diagnostics-status')).toBeVisible({ timeout: 30_000 });
  await expect(check('database')).toHaveAttribute('data-status', 'ok');
  await expect(check('sfu')).toHaveAttribute('data-status', 'ok');
  // The doctor reaches the public address through nginx and trusts its certificate (NODE_EXTRA_CA_CERTS).
  await expect(check('tls')).toHaveAttribute('data-status', 'ok');
  for (const url of (process.env[E2E_ENV.turnUrls] ?? '').split(',')) {
    await expect(check(`turn:${url}`)).toHaveAttribute('data-status', 'ok');
  }
});

test('a streamer goes live, a viewer watches and they chat, through the gateway', async ({ page, browser }) => {
  await signUp(page, newAccount('streamer', `Gate Streamer ${Date.now().toString(36)}`));
  await page.goto('/create');
  await page.getByLabel(/^Live broadcast/).check();
  await page.getByLabel('Title', { exact: true }).fill(`Gateway live ${Date.now()}`);
  await page.getByRole('button', { name: 'Create room' }).click();
  await expect(page).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  const roomPath = new URL(page.url()).pathname;
  await expect
    .poll(() => page.getByTestId('studio-preview').evaluate((v: HTMLVideoElement) => v.videoWidth))
    .toBeGreaterThan(0);
  await page.getByTestId('go-live').click();
  await expect(page.getByTestId('on-air')).toBeVisible();
  await expect(page.getByTestId('room-status')).toHaveText('Live', { timeout: 15_000 });

  const context = await browser.newContext();
  try {
    await trackPeerConnections(context);
    const viewer = await context.newPage();
    const account = newAccount('viewer', `Gate Viewer ${Date.now().toString(36)}`);
    await signUp(viewer, account);
    await viewer.goto(roomPath);
    await expect(viewer.getByTestId('watch')).toBeVisible();
    await expect.poll(async () => (await inboundMedia(viewer)).framesDecoded, { timeout: 30_000 }).toBeGreaterThan(0);
    await expect(page.getByTestId('viewer-count')).toHaveText('1 viewer', { timeout: 15_000 });

    // Chat over the Socket.IO WebSocket nginx upgrades.
    const chat = (p: typeof page) => p.getByTestId('chat');
    await expect(chat(page)).toHaveAttribute('data-status', 'ready');
    await expect(chat(viewer)).toHaveAttribute('data-status', 'ready');
    const box = chat(viewer).getByLabel('Message', { exact: true });
    await box.fill('Hello from behind the gateway');
    await box.press('Enter');
    await expect(
      chat(page).locator(`[data-testid="chat-message"][data-author="${account.displayName}"]`).getByTestId('chat-text'),
    ).toHaveText('Hello from behind the gateway');

    await page.getByTestId('stop-live').click();
    await page.getByTestId('stop-confirm').click();
    await expect(viewer.getByTestId('stream-ended')).toBeVisible({ timeout: 15_000 });
  } finally {
    await context.close();
  }
});

test('two people in a call see each other through the gateway', async ({ browser }) => {
  const people: Participant[] = [];
  try {
    const ana = await participant(browser, 'Ana Gateway');
    const ben = await participant(browser, 'Ben Gateway');
    people.push(ana, ben);
    const url = await createCall(ana.page, 'Through nginx');
    expect(url).toMatch(/^https:\/\/localhost:\d+\/rooms\//);
    await joinCall(ana.page, url);
    await joinCall(ben.page, url);
    await expectDecoding(ana.page, 'Ben Gateway');
    await expectDecoding(ben.page, 'Ana Gateway');
  } finally {
    await closeAll(people);
  }
});
