import { newAccount, signUp } from '../support/accounts.js';
import { expect, test } from '../support/test.js';
import { inboundMedia, trackPeerConnections } from '../support/webrtc.js';

test.describe.configure({ timeout: 120_000 });

/**
 * A paid live stream: the viewer buys tokens (dev provider); the stream does not play before a ticket
 * (no peer connection is even made) and its chat stays closed; both open after; the viewer tips
 * during the stream and the streamer sees it in their earnings.
 */
test('a paid stream plays only with a ticket; a tip during the stream reaches the earnings', async ({
  page,
  browser,
}) => {
  const streamer = newAccount('streamer');
  await signUp(page, streamer);
  await page.getByRole('link', { name: 'Create room' }).click();
  await page.getByLabel(/^Live broadcast/).check();
  await page.getByLabel('Title', { exact: true }).fill(`Paid show ${Date.now()}`);
  await page.getByLabel('Ticket price (tokens, optional)').fill('30');
  await page.getByRole('button', { name: 'Create room' }).click();
  await expect(page).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  const roomUrl = page.url();
  await expect
    .poll(() => page.getByTestId('studio-preview').evaluate((v: HTMLVideoElement) => v.videoWidth))
    .toBeGreaterThan(0);
  await page.getByTestId('go-live').click();
  await expect(page.getByTestId('room-status')).toHaveText('Live', { timeout: 15_000 });

  const context = await browser.newContext();
  await trackPeerConnections(context);
  const viewer = await context.newPage();
  try {
    await signUp(viewer, newAccount('viewer'));
    await viewer.goto('/wallet');
    await viewer.getByTestId('token-pack').first().getByRole('button', { name: 'Buy' }).click();
    await expect(viewer.getByTestId('wallet-balance')).toHaveText('100 tokens');

    // Without a ticket nothing plays: the gate shows and no peer connection is made.
    await viewer.goto(roomUrl);
    const gate = viewer.getByTestId('ticket-gate');
    await expect(gate).toContainText('A ticket costs 30 tokens.');
    await viewer.waitForTimeout(1500);
    expect(await viewer.evaluate(() => (window as any).__ffPeers.length)).toBe(0);
    const chat = viewer.getByTestId('chat');
    await expect(chat).toHaveAttribute('data-status', 'failed');
    await expect(chat.getByTestId('chat-status')).toContainText('The chat of this stream is for ticket holders.');

    // The fee is stated, the balance shown; buying asks to confirm, then shows a receipt.
    await expect(gate.getByTestId('platform-fee')).toHaveText(
      'The streamer receives 80% of the ticket price; the platform keeps 20%.',
    );
    await expect(gate.getByTestId('ticket-balance')).toHaveText('Your balance: 100 tokens.');
    await gate.getByRole('button', { name: 'Buy a ticket for 30 tokens' }).click();
    await expect(gate.getByTestId('ticket-confirm')).toContainText('Your balance afterwards: 70 tokens.');
    await gate.getByRole('button', { name: 'Pay 30 tokens' }).click();
    const receipt = viewer.getByTestId('ticket-receipt');
    await expect(receipt).toContainText('Ticket bought');
    await expect(receipt).toContainText('Balance now70 tokens');
    await receipt.getByRole('button', { name: 'Watch now' }).click();
    await expect(receipt).toHaveCount(0);
    await expect(gate).toHaveCount(0);
    // The chat joins again with the ticket.
    await expect(chat).toHaveAttribute('data-status', 'ready');
    const box = chat.getByLabel('Message', { exact: true });
    await box.fill('Worth the ticket');
    await box.press('Enter');
    await expect(chat.getByTestId('chat-text').filter({ hasText: 'Worth the ticket' })).toHaveCount(1);
    await expect.poll(async () => (await inboundMedia(viewer)).framesDecoded, { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(async () => (await inboundMedia(viewer)).audioPackets, { timeout: 30_000 }).toBeGreaterThan(0);

    // A tip while watching.
    const tip = viewer.getByTestId('tip-form');
    await tip.getByRole('button', { name: '20 tokens', exact: true }).click();
    await tip.getByRole('button', { name: 'Tip 20 tokens' }).click();
    await expect(tip.getByRole('status')).toContainText('Your balance: 50 tokens');
    await expect(tip.getByTestId('tip-balance')).toHaveText('Your balance: 50 tokens.');
    await expect(tip.getByTestId('platform-fee')).toContainText('the platform keeps 20%');

    // Earnings: ticket 30 → 24, tip 20 → 16 (20% platform fee).
    await page.goto('/earnings');
    await expect(page.getByTestId('earnings-tips')).toHaveText('16');
    await expect(page.getByTestId('earnings-available')).toHaveText('40');
  } finally {
    await context.close();
  }
});
