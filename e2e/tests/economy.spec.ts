import { newAccount, signIn, signUp } from '../support/accounts.js';
import { E2E_ENV } from '../support/server-env.js';
import { expect, test } from '../support/test.js';

/**
 * The token economy through the UI: a viewer buys tokens (dev provider) and tips a streamer; the
 * streamer sees the tip in their earnings and asks for a payout; an admin approves it.
 */
test('buy tokens, tip, see earnings, request and approve a payout', async ({ browser }) => {
  const streamerPage = await (await browser.newContext()).newPage();
  const viewerPage = await (await browser.newContext()).newPage();
  const adminPage = await (await browser.newContext()).newPage();

  const streamer = newAccount('streamer');
  await signUp(streamerPage, streamer);
  await streamerPage.goto('/create');
  await streamerPage.getByLabel('Title').fill('Economy show');
  await streamerPage.getByRole('button', { name: 'Create room' }).click();
  await expect(streamerPage).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  const roomUrl = new URL(streamerPage.url()).pathname;

  await signUp(viewerPage, newAccount('viewer'));
  await viewerPage.getByRole('link', { name: 'Wallet' }).click();
  await expect(viewerPage.getByTestId('wallet-balance')).toHaveText('0 tokens');
  await viewerPage.getByTestId('token-pack').first().getByRole('button', { name: 'Buy' }).click();
  await expect(viewerPage.getByRole('status')).toContainText('Added 100 tokens');
  await expect(viewerPage.getByTestId('wallet-balance')).toHaveText('100 tokens');
  await expect(viewerPage.getByTestId('wallet-history')).toContainText('Purchase');

  await viewerPage.goto(roomUrl);
  const tip = viewerPage.getByTestId('tip-form');
  await tip.getByRole('button', { name: '50 tokens' }).click();
  await tip.getByLabel('Message (optional)').fill('great show');
  await tip.getByRole('button', { name: 'Tip 50 tokens' }).click();
  await expect(tip.getByRole('status')).toContainText('Your balance: 50 tokens');

  // 50 tokens, 20% platform fee: the streamer earns 40.
  await streamerPage.getByRole('link', { name: 'Earnings' }).click();
  await expect(streamerPage.getByTestId('earnings-tips')).toHaveText('40');
  await expect(streamerPage.getByTestId('earnings-available')).toHaveText('40');
  await expect(streamerPage.getByTestId('earnings-chart')).toBeVisible();
  await streamerPage.getByLabel('Tokens').fill('30');
  await streamerPage.getByRole('button', { name: 'Request payout' }).click();
  await expect(streamerPage.getByTestId('my-payouts')).toContainText('Waiting for approval');
  await expect(streamerPage.getByTestId('earnings-available')).toHaveText('10');

  const password = process.env[E2E_ENV.demoPassword];
  expect(password, 'the demo admin password from the start-up banner').toBeTruthy();
  await signIn(adminPage, { email: 'admin@fusionflow.test', password: password! });
  await adminPage.getByRole('link', { name: 'Payouts' }).click();
  const row = adminPage.getByTestId('payout-queue').getByRole('row', { name: new RegExp(streamer.displayName) });
  await row.getByRole('textbox').fill('paid by transfer');
  await row.getByRole('button', { name: 'Approve' }).click();
  await expect(row).toHaveCount(0);

  // The admin ledger traces it all, and the ledger sums to zero.
  await adminPage.getByRole('link', { name: 'Ledger' }).click();
  await expect(adminPage.getByTestId('ledger-total')).toContainText('Sum over all accounts: 0');
  await expect(adminPage.getByTestId('ledger')).toContainText('tip of 50');
  await expect(adminPage.getByTestId('ledger')).toContainText('paid by transfer');

  await streamerPage.reload();
  await expect(streamerPage.getByTestId('my-payouts')).toContainText('Approved');
  await expect(streamerPage.getByTestId('my-payouts')).toContainText('paid by transfer');
});
