import { newAccount, signUp } from '../support/accounts.js';
import { expect, test } from '../support/test.js';
import { inboundMedia, trackPeerConnections } from '../support/webrtc.js';

test.describe.configure({ timeout: 120_000 });

test('the studio sends simulcast; a viewer switches between layers and keeps decoding', async ({ page, browser }) => {
  const streamer = newAccount('streamer');
  await trackPeerConnections(page.context());
  await signUp(page, streamer);
  await page.getByRole('link', { name: 'Create room' }).click();
  await page.getByLabel(/^Live broadcast/).check();
  await page.getByLabel('Title', { exact: true }).fill(`Simulcast ${Date.now()}`);
  await page.getByRole('button', { name: 'Create room' }).click();
  await expect(page).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  const roomUrl = page.url();
  await expect
    .poll(() => page.getByTestId('studio-preview').evaluate((v: HTMLVideoElement) => v.videoWidth))
    .toBeGreaterThan(0);
  await page.getByTestId('go-live').click();
  await expect(page.getByTestId('room-status')).toHaveText('Live', { timeout: 15_000 });

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
