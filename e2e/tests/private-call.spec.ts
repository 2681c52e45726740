import { newAccount, signUp } from '../support/accounts.js';
import { callRoom, closeAll, expectDecoding, participant, tileOf } from '../support/calls.js';
import { expect, test } from '../support/test.js';

/**
 * A private call billed per started minute (the e2e server's "minute" is 8 s): a viewer with tokens
 * for two minutes books it; both see and hear each other; the second minute leaves nothing for a
 * third, so both are warned; then the call ends for the payer and the streamer has earned it.
 */
test('a private call is charged per minute, warns before the end and ends when the balance runs out', async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const host = await participant(browser, 'Host');
  const guest = await participant(browser, 'Payer');
  try {
    // The host is a streamer: only streamers charge for calls.
    await host.context.clearCookies();
    const streamer = newAccount('streamer', 'Host');
    await signUp(host.page, streamer);
    await host.page.goto('/create');
    await host.page.getByLabel(/^Call/).check();
    await host.page.getByLabel('Title', { exact: true }).fill('Private consultation');
    await host.page.getByLabel('Price per minute (tokens, optional)').fill('50');
    await host.page.getByRole('button', { name: 'Create room' }).click();
    await expect(host.page).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
    const url = host.page.url();
    await host.page.getByTestId('call-join').click();
    await expect(callRoom(host.page)).toHaveAttribute('data-status', 'joined');

    // The payer buys 100 tokens: two minutes at 50.
    await guest.page.goto('/wallet');
    await guest.page.getByTestId('token-pack').first().getByRole('button', { name: 'Buy' }).click();
    await expect(guest.page.getByTestId('wallet-balance')).toHaveText('100 tokens');
    await guest.page.goto(url);
    await expect(guest.page.getByTestId('private-call-notice')).toContainText('50 tokens per minute');
    await expect(guest.page.getByTestId('private-call-notice')).toContainText('about 2 minutes');
    await guest.page.getByRole('button', { name: 'Book private call (50 tokens/min)' }).click();
    await expect(callRoom(guest.page)).toHaveAttribute('data-status', 'joined');

    await expectDecoding(guest.page, 'Host');
    await expectDecoding(host.page, 'Payer');
    await expect(guest.page.getByTestId('call-meter')).toContainText(/Private call · [12] minutes? · (50|100) tokens/);

    // After the second minute nothing is left for a third: both sides are warned.
    await expect(guest.page.getByTestId('call-meter-warning')).toBeVisible({ timeout: 20_000 });
    await expect(host.page.getByTestId('call-meter-warning')).toBeVisible({ timeout: 10_000 });
    await expect(guest.page.getByTestId('call-meter')).toContainText('2 minutes · 100 tokens');

    // Then the call ends for the payer, and the host sees them leave.
    await expect(guest.page.getByTestId('call-removed')).toContainText('the balance ran out', { timeout: 20_000 });
    await expect(tileOf(host.page, 'Payer')).toHaveCount(0, { timeout: 10_000 });

    // 2 minutes × 50 with a 20% platform fee: the host earned 80 from calls.
    await host.page.goto('/earnings');
    await expect(host.page.getByTestId('earnings-totals')).toContainText('Private calls');
    await expect(host.page.getByTestId('earnings-available')).toHaveText('80');
  } finally {
    await closeAll([host, guest]);
  }
});
