import { newAccount, signUp } from '../support/accounts.js';
import { goLiveInNewRoom } from '../support/studio.js';
import { expect, test } from '../support/test.js';
import { inboundMedia, trackPeerConnections } from '../support/webrtc.js';

test.describe.configure({ timeout: 120_000 });

test('the studio sends simulcast; a viewer switches between layers and keeps decoding', async ({ page, browser }) => {
  const streamer = newAccount('streamer');
  await trackPeerConnections(page.context());
  await signUp(page, streamer);
  const roomUrl = await goLiveInNewRoom(page, `Simulcast ${Date.now()}`);

  const context = await browser.newContext();
  try {
    await trackPeerConnections(context);
    const viewer = await context.newPage();
    await viewer.goto(roomUrl);
    // Both layers reach the SFU: the viewer is offered a choice.
    const quality = viewer.getByTestId('quality');
    await expect(quality).toBeVisible({ timeout: 30_000 });
    // Named by the layers' real heights (the fake camera is 640×480; the second layer is half of it).
    await expect(quality.locator('option')).toHaveText(['Auto', '480p', '240p'], { timeout: 20_000 });

    await quality.selectOption('h');
    await expect.poll(async () => (await inboundMedia(viewer)).frameWidth, { timeout: 20_000 }).toBe(640);
    await quality.selectOption('l');
    await expect.poll(async () => (await inboundMedia(viewer)).frameWidth, { timeout: 20_000 }).toBe(320);
    // The switch keeps one continuous stream: frames keep being decoded.
    const before = (await inboundMedia(viewer)).framesDecoded;
    await expect
      .poll(async () => (await inboundMedia(viewer)).framesDecoded, { timeout: 10_000 })
      .toBeGreaterThan(before + 10);
    await quality.selectOption('h');
    await expect.poll(async () => (await inboundMedia(viewer)).frameWidth, { timeout: 20_000 }).toBe(640);

    // The recording keeps the best layer the studio sends, whichever one the viewer watched: past its first seconds
    // (while the studio's bandwidth estimate ramps up it may send only the small layer) the replay is 640 wide.
    await quality.selectOption('l');
    await page.getByTestId('stop-live').click();
    await page.getByTestId('stop-confirm').click();
    await viewer.getByTestId('watch-replay').click({ timeout: 60_000 });
    const replay = viewer.getByTestId('replay-video');
    await expect
      .poll(() => replay.evaluate((v: HTMLVideoElement) => v.duration), { timeout: 20_000 })
      .toBeGreaterThan(5);
    await replay.evaluate(async (v: HTMLVideoElement) => {
      v.muted = true;
      v.currentTime = v.duration - 1.5;
      await v.play();
    });
    await expect.poll(() => replay.evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 20_000 }).toBe(640);
  } finally {
    await context.close();
  }
});
