import type { Page } from '@playwright/test';
import { newAccount, signUp } from '../support/accounts.js';
import { goLiveInNewRoom } from '../support/studio.js';
import { expect, test } from '../support/test.js';
import { inboundMedia, trackPeerConnections } from '../support/webrtc.js';

test.describe.configure({ timeout: 180_000 });

/** The host's channel address, from the room page's host link. */
const channelUrl = async (page: Page) => {
  const href = await page.getByTestId('channel-link').first().getAttribute('href');
  expect(href).toMatch(/^\/c\//);
  return href!;
};

const stopBroadcast = async (page: Page) => {
  await page.getByTestId('stop-live').click();
  await page.getByTestId('stop-confirm').click();
  await expect(page.getByTestId('room-status')).toHaveText('Ended');
};

test('a studio reload keeps the broadcast: leaving asks first, the studio goes back on air by itself, viewers resume on their own, one replay', async ({
  page,
  browser,
}) => {
  await signUp(page, newAccount('streamer'));
  const roomUrl = await goLiveInNewRoom(page, `Reloaded ${Date.now()}`);
  const channel = await channelUrl(page);

  const context = await browser.newContext();
  try {
    await trackPeerConnections(context);
    const viewer = await context.newPage();
    await viewer.goto(roomUrl);
    await expect.poll(async () => (await inboundMedia(viewer)).framesDecoded, { timeout: 30_000 }).toBeGreaterThan(0);
    await page.waitForTimeout(3000);
    const before = await inboundMedia(viewer);

    // Leaving the studio while live asks first (the browser's own prompt); the streamer reloads anyway.
    const prompts: string[] = [];
    page.on('dialog', (dialog) => {
      prompts.push(dialog.type());
      void dialog.accept();
    });
    await page.reload();
    expect(prompts).toEqual(['beforeunload']);

    // On air again without a click: the same room, still live.
    await expect(page.getByTestId('on-air')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('room-status')).toHaveText('Live');

    // The viewer's player starts again by itself (a new session on a new peer connection) and shows new frames;
    // it never showed the ended state.
    await expect
      .poll(
        async () => {
          const now = await inboundMedia(viewer);
          return now.peers > before.peers ? now.framesDecoded : 0;
        },
        { timeout: 45_000, message: 'the viewer decodes frames of the resumed broadcast' },
      )
      .toBeGreaterThan(10);
    await expect(viewer.getByTestId('stream-ended')).toHaveCount(0);
    await expect(viewer.getByTestId('watch-video')).toBeVisible();

    await page.waitForTimeout(3000);
    await stopBroadcast(page);

    // One broadcast, one recording: the channel lists a single replay, as long as both parts together.
    await viewer.goto(channel);
    const replays = viewer.getByTestId('channel-replays').getByRole('listitem');
    await expect(replays).toHaveCount(1, { timeout: 60_000 });
    await replays.first().getByRole('link').first().click();
    const video = viewer.getByTestId('replay-video');
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.duration), { timeout: 20_000 })
      .toBeGreaterThan(6);
  } finally {
    await context.close();
  }
});

test('a paid broadcast’s replay needs its ticket and plays after buying one; the channel address shows the next broadcast live', async ({
  page,
  browser,
}) => {
  await signUp(page, newAccount('streamer'));
  await goLiveInNewRoom(page, `Paid replay ${Date.now()}`, (form) =>
    form.getByLabel('Ticket price (tokens, optional)').fill('30'),
  );
  const channel = await channelUrl(page);
  await page.waitForTimeout(6000);
  await stopBroadcast(page);

  const context = await browser.newContext();
  try {
    await trackPeerConnections(context);
    const viewer = await context.newPage();
    await signUp(viewer, newAccount('viewer'));
    await viewer.goto('/wallet');
    await viewer.getByTestId('token-pack').first().getByRole('button', { name: 'Buy' }).click();
    await expect(viewer.getByTestId('wallet-balance')).toHaveText('100 tokens');

    // The channel is offline and offers the latest replay, marked paid.
    await viewer.goto(channel);
    await expect(viewer.getByTestId('channel-offline')).toBeVisible();
    const latest = viewer.getByTestId('channel-latest-replay');
    await expect(latest).toBeVisible({ timeout: 60_000 });
    const playback = viewer.waitForResponse((r) => /\/api\/replays\/[^/]+\/playback$/.test(new URL(r.url()).pathname));
    await latest.click();
    await expect(viewer).toHaveURL(/\/replays\/[A-Za-z0-9_-]+$/);

    // No ticket: the server refuses playback (402) and the ticket gate shows instead of the video.
    expect((await playback).status()).toBe(402);
    const gate = viewer.getByTestId('ticket-gate');
    await expect(gate).toContainText('A ticket costs 30 tokens.');
    await expect(viewer.getByTestId('replay-video')).toHaveCount(0);

    await gate.getByRole('button', { name: 'Buy a ticket for 30 tokens' }).click();
    await gate.getByRole('button', { name: 'Pay 30 tokens' }).click();
    const receipt = viewer.getByTestId('ticket-receipt');
    await expect(receipt).toContainText('Ticket bought');
    await receipt.getByRole('button', { name: 'Watch now' }).click();
    const video = viewer.getByTestId('replay-video');
    await expect(video).toBeVisible();
    await video.evaluate((v: HTMLVideoElement) => {
      v.muted = true;
      return v.play();
    });
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames), {
        timeout: 20_000,
        message: 'the bought replay shows frames',
      })
      .toBeGreaterThan(10);

    // The summary counts the ticket bought for the replay (30 tokens, 24 after the platform's 20%).
    await page.reload();
    await expect(page.getByTestId('summary-tickets')).toContainText('1 sold');
    // The streamer goes live again from the summary (a new broadcast with the same title and price):
    // the same channel address now shows it, playing, and the viewer's ticket is for the earlier broadcast only.
    await page.getByTestId('go-live-again').click();
    await expect(page).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
    await expect
      .poll(() => page.getByTestId('studio-preview').evaluate((v: HTMLVideoElement) => v.videoWidth))
      .toBeGreaterThan(0);
    await page.getByTestId('go-live').click();
    await expect(page.getByTestId('room-status')).toHaveText('Live', { timeout: 15_000 });
    await viewer.goto(channel);
    await expect(viewer.getByTestId('channel-live-title')).toContainText('Paid replay');
    await expect(viewer.getByTestId('ticket-gate')).toContainText('A ticket costs 30 tokens.');
    await viewer.getByTestId('ticket-gate').getByRole('button', { name: 'Buy a ticket for 30 tokens' }).click();
    await viewer.getByTestId('ticket-gate').getByRole('button', { name: 'Pay 30 tokens' }).click();
    await viewer.getByTestId('ticket-receipt').getByRole('button', { name: 'Watch now' }).click();
    await expect.poll(async () => (await inboundMedia(viewer)).framesDecoded, { timeout: 30_000 }).toBeGreaterThan(0);
    await stopBroadcast(page);
  } finally {
    await context.close();
  }
});
