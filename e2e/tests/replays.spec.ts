import { newAccount, signUp } from '../support/accounts.js';
import { goLiveInNewRoom } from '../support/studio.js';
import { expect, test } from '../support/test.js';
import { inboundMedia, trackPeerConnections } from '../support/webrtc.js';

test.describe.configure({ timeout: 150_000 });

/** What the replay's <video> has played: frames shown, position, duration. */
const playback = (v: HTMLVideoElement) => ({
  frames: v.getVideoPlaybackQuality().totalVideoFrames,
  currentTime: v.currentTime,
  duration: v.duration,
  paused: v.paused,
});

test('a recorded broadcast becomes a replay: the viewer of the ended broadcast follows the link, the replay plays and seeks', async ({
  page,
  browser,
}, testInfo) => {
  const streamer = newAccount('streamer');
  await signUp(page, streamer);
  // Recording is on by default.
  const roomUrl = await goLiveInNewRoom(page, `Recorded ${Date.now()}`, (form) =>
    expect(form.getByLabel('Record this broadcast')).toBeChecked(),
  );
  const wentLive = Date.now();

  const context = await browser.newContext();
  try {
    await trackPeerConnections(context);
    const viewer = await context.newPage();
    await viewer.goto(roomUrl);
    await expect.poll(async () => (await inboundMedia(viewer)).framesDecoded, { timeout: 30_000 }).toBeGreaterThan(0);

    // The streamer says something in the chat; it replays beside the video at its moment.
    const box = page.getByTestId('chat').getByLabel('Message', { exact: true });
    await box.fill('Hello from the live show');
    await box.press('Enter');
    await expect(page.getByTestId('chat-text').filter({ hasText: 'Hello from the live show' })).toHaveCount(1);

    // About 8 s more of broadcast, then Stop (confirmed).
    await page.waitForTimeout(8000);
    await page.getByTestId('stop-live').click();
    await page.getByTestId('stop-confirm').click();
    await expect(page.getByTestId('room-status')).toHaveText('Ended');
    const broadcastSeconds = (Date.now() - wentLive) / 1000;
    // The streamer's summary: one viewer watched all along, one chat message.
    await expect(page.getByTestId('broadcast-summary')).toBeVisible();
    await expect(page.getByTestId('summary-peak-viewers')).toHaveText('1');
    await expect(page.getByTestId('summary-messages')).toHaveText('1');

    // The viewer sees one ended state, then the replay link as soon as the recording is ready.
    await expect(viewer.getByTestId('stream-ended')).toBeVisible({ timeout: 15_000 });
    // The chat the viewer was reading stays, closed for sending.
    const chat = viewer.getByTestId('chat');
    await expect(chat.getByTestId('chat-text').filter({ hasText: 'Hello from the live show' })).toHaveCount(1);
    await expect(chat.getByLabel('Message', { exact: true })).toHaveCount(0);
    const link = viewer.getByTestId('watch-replay');
    await expect(link).toBeVisible({ timeout: 60_000 });
    await link.click();
    await expect(viewer).toHaveURL(/\/replays\/[A-Za-z0-9_-]+$/);

    const video = viewer.getByTestId('replay-video');
    await expect(video).toBeVisible();
    await video.evaluate((v: HTMLVideoElement) => {
      v.muted = true;
      return v.play();
    });
    await expect
      .poll(async () => (await video.evaluate(playback)).frames, {
        timeout: 20_000,
        message: 'the replay shows frames',
      })
      .toBeGreaterThan(10);
    const played = await video.evaluate(playback);
    console.log(`replay: duration ${played.duration.toFixed(2)} s, ${played.frames} frames shown`);
    // The file says how long it is (Duration in the WebM header): as long as the broadcast, from the studio's Go live
    // (just before `wentLive`) to Stop.
    expect(played.duration).toBeGreaterThan(broadcastSeconds - 4);
    expect(played.duration).toBeLessThan(broadcastSeconds + 4);

    // Seeking (the file has cues; the server answers range requests) to 5 s plays on from there.
    await video.evaluate(
      (v: HTMLVideoElement) =>
        new Promise<void>((resolve) => {
          v.addEventListener('seeked', () => resolve(), { once: true });
          v.currentTime = 5;
        }),
    );
    const after = await video.evaluate(playback);
    expect(after.currentTime).toBeGreaterThanOrEqual(4.9);
    await expect
      .poll(async () => (await video.evaluate(playback)).frames, { timeout: 10_000 })
      .toBeGreaterThan(after.frames);
    // Near the end every message of the broadcast has been said: the chat beside the video shows it.
    await video.evaluate((v: HTMLVideoElement) => {
      v.currentTime = Math.max(0, v.duration - 0.5);
    });
    await expect(viewer.getByTestId('replay-chat')).toContainText('Hello from the live show', { timeout: 10_000 });
    await viewer.screenshot({ path: testInfo.outputPath('replay.png') });
  } finally {
    await context.close();
  }
});
