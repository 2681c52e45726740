import type { Page, Response } from '@playwright/test';
import { newAccount, signUp } from '../support/accounts.js';
import { expect, test } from '../support/test.js';
import { inboundMedia, trackPeerConnections } from '../support/webrtc.js';

test.describe.configure({ timeout: 120_000 });

/** The ICE ufrag of the remote description of the page's newest peer connection, and how many it made. */
const iceOf = (page: Page) =>
  page.evaluate(() => {
    const peers = (window as any).__ffPeers as { pc: RTCPeerConnection }[];
    const pc = peers.at(-1)?.pc;
    const ufrag = (sdp: string | undefined) => /^a=ice-ufrag:(.+)$/m.exec(sdp ?? '')?.[1]?.trim();
    return {
      peers: peers.length,
      remote: ufrag(pc?.remoteDescription?.sdp),
      local: ufrag(pc?.localDescription?.sdp),
      state: pc?.iceConnectionState,
    };
  });

/** The next ICE restart PATCH (If-Match: *) the page sends, and its answer. */
const restartPatch = (page: Page) =>
  page.waitForResponse((r: Response) => r.request().method() === 'PATCH' && r.request().headers()['if-match'] === '*', {
    timeout: 20_000,
  });

test('a network change restarts ICE of the watch page and of the studio by PATCH; the picture goes on, no new session', async ({
  page,
  browser,
}) => {
  await trackPeerConnections(page.context());
  const streamer = newAccount('streamer');
  await signUp(page, streamer);
  await page.getByRole('link', { name: 'Create room' }).click();
  await page.getByLabel(/^Live broadcast/).check();
  await page.getByLabel('Title', { exact: true }).fill(`ICE restart ${Date.now()}`);
  await page.getByRole('button', { name: 'Create room' }).click();
  await expect(page).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  const roomUrl = page.url();
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
    await viewer.goto(roomUrl);
    await expect.poll(async () => (await inboundMedia(viewer)).framesDecoded, { timeout: 30_000 }).toBeGreaterThan(0);

    // The viewer's device is back on a network: its player restarts ICE on the same session.
    const before = await iceOf(viewer);
    const patched = restartPatch(viewer);
    await viewer.evaluate(() => window.dispatchEvent(new Event('online')));
    const answer = await patched;
    expect(answer.status()).toBe(200);
    expect(answer.headers()['content-type']).toContain('application/trickle-ice-sdpfrag');
    await expect.poll(async () => (await iceOf(viewer)).remote).not.toBe(before.remote);
    const after = await iceOf(viewer);
    expect(after.local).not.toBe(before.local);
    expect(after.peers).toBe(before.peers);
    const frames = (await inboundMedia(viewer)).framesDecoded;
    await expect
      .poll(async () => (await inboundMedia(viewer)).framesDecoded, { timeout: 20_000 })
      .toBeGreaterThan(frames + 30);

    // The studio's turn: its publisher restarts, and the viewer keeps decoding.
    const studioBefore = await iceOf(page);
    const studioPatched = restartPatch(page);
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    expect((await studioPatched).status()).toBe(200);
    await expect.poll(async () => (await iceOf(page)).remote).not.toBe(studioBefore.remote);
    expect((await iceOf(page)).peers).toBe(studioBefore.peers);
    const viewerFrames = (await inboundMedia(viewer)).framesDecoded;
    await expect
      .poll(async () => (await inboundMedia(viewer)).framesDecoded, { timeout: 20_000 })
      .toBeGreaterThan(viewerFrames + 30);
    await expect(page.getByTestId('on-air')).toBeVisible();
    expect((await iceOf(viewer)).peers).toBe(before.peers);
  } finally {
    await context.close();
  }
});
