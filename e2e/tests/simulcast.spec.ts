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
  } finally {
    await context.close();
  }
});
