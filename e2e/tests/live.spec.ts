import { newAccount, signUp } from '../support/accounts.js';
import { metric } from '../support/calls.js';
import { expect, test } from '../support/test.js';
import { inboundMedia, timeToFirstFrame, trackPeerConnections } from '../support/webrtc.js';

// Four viewers, a late one and a reload, on a machine that may be loaded.
test.describe.configure({ timeout: 120_000 });

test('a streamer goes live from the studio; three viewers see and hear it, a late one gets a picture at once, all are told when it stops', async ({
  page,
  browser,
  request,
}, testInfo) => {
  const streamer = newAccount('streamer');
  await signUp(page, streamer);
  await page.getByRole('link', { name: 'Create room' }).click();
  await page.getByLabel(/^Live broadcast/).check();
  const title = `Live check ${Date.now()}`;
  await page.getByLabel('Title', { exact: true }).fill(title);
  await page.getByRole('button', { name: 'Create room' }).click();
  await expect(page).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  const roomUrl = page.url();

  // Studio: camera preview and device pickers, then Go live.
  await expect(page.getByTestId('studio')).toBeVisible();
  await expect
    .poll(() => page.getByTestId('studio-preview').evaluate((v: HTMLVideoElement) => v.videoWidth))
    .toBeGreaterThan(0);
  await expect(page.getByLabel('Camera')).toBeVisible();
  await expect(page.getByLabel('Microphone')).toBeVisible();
  await page.getByTestId('go-live').click();
  await expect(page.getByTestId('on-air')).toBeVisible();
  await expect(page.getByTestId('room-status')).toHaveText('Live', { timeout: 15_000 });

  // Three viewers (signed out: they watch as guests).
  const viewers = await Promise.all(
    [0, 1, 2].map(async () => {
      const context = await browser.newContext();
      await trackPeerConnections(context);
      const viewerPage = await context.newPage();
      await viewerPage.goto(roomUrl);
      return { context, page: viewerPage };
    }),
  );
  try {
    for (const v of viewers) {
      await expect(v.page.getByTestId('watch')).toBeVisible();
      await expect
        .poll(() => inboundMedia(v.page), { timeout: 30_000, message: 'a viewer decodes video and receives audio' })
        .toMatchObject({ framesDecoded: expect.any(Number) });
      await expect.poll(async () => (await inboundMedia(v.page)).framesDecoded, { timeout: 30_000 }).toBeGreaterThan(0);
      await expect.poll(async () => (await inboundMedia(v.page)).audioPackets, { timeout: 30_000 }).toBeGreaterThan(0);
    }
    await expect(page.getByTestId('viewer-count')).toHaveText('3 viewers', { timeout: 15_000 });
    // The player shows how its connection is doing (from getStats), and each viewer reported its join.
    const badge = viewers[0]!.page.getByTestId('connection-quality');
    await expect(badge).toBeVisible();
    await expect(badge).toHaveAttribute('data-path', 'direct');
    await expect.poll(async () => Number((await badge.getAttribute('data-fps')) || 0)).toBeGreaterThan(0);
    await expect(badge).toHaveAttribute('aria-label', /^(Good|Fair|Poor) connection: .*frames per second, direct$/);
    await expect.poll(() => metric(request, 'watch_join_seconds_count')).toBeGreaterThanOrEqual(3);
    await viewers[0]!.page.screenshot({ path: testInfo.outputPath('watch-quality.png') });

    // A viewer who joins later gets a picture (the SFU asks for a keyframe on join).
    await page.waitForTimeout(5000);
    const lateContext = await browser.newContext();
    await trackPeerConnections(lateContext);
    const late = await lateContext.newPage();
    viewers.push({ context: lateContext, page: late });
    await late.goto(roomUrl);
    await expect(late.getByTestId('watch')).toBeVisible();
    const first = await timeToFirstFrame(late);
    console.log(
      `late viewer: first frame ${first.fromConnect.toFixed(0)} ms after connecting, ${first.fromCreate.toFixed(0)} ms after starting`,
    );
    // The figures are printed, not asserted (timing belongs to the benchmarks: a loaded CI machine measured 3.3 s
    // once where a quiet one measures 50 ms); the viewer decoded a picture.
    expect(first.fromConnect).toBeGreaterThanOrEqual(0);
    await expect(page.getByTestId('viewer-count')).toHaveText('4 viewers', { timeout: 15_000 });

    // A viewer who reloads ends their session on the way out (no ghost viewer until the SFU's ICE
    // timeout): the page sends the session's DELETE (keepalive) as it unloads. Chromium sends such a
    // request from its browser process, where Playwright does not see it, so the scenario checks what
    // the DELETE is for: once the reloaded page plays again, the count is four and stays four (a ghost
    // would make it five for as long as the SFU's ICE timeout).
    const reloading = viewers[0]!.page;
    await reloading.reload();
    await expect
      .poll(async () => (await inboundMedia(reloading)).framesDecoded, { timeout: 30_000 })
      .toBeGreaterThan(0);
    await expect(page.getByTestId('viewer-count')).toHaveText('4 viewers', { timeout: 15_000 });
    await expect(reloading.getByTestId('viewer-count')).toHaveText('4 viewers', { timeout: 15_000 });
    await page.waitForTimeout(3000);
    expect(await page.getByTestId('viewer-count').textContent()).toBe('4 viewers');

    // Stop asks first: "Keep streaming" changes nothing.
    await page.getByTestId('stop-live').click();
    await expect(page.getByRole('dialog')).toContainText('End the broadcast?');
    await page.getByTestId('stop-cancel').click();
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await expect(page.getByTestId('room-status')).toHaveText('Live');
    // Stop, confirmed, ends the broadcast and the room; every viewer is told.
    await page.getByTestId('stop-live').click();
    await page.getByTestId('stop-confirm').click();
    await expect(page.getByTestId('room-status')).toHaveText('Ended');
    for (const v of viewers) await expect(v.page.getByTestId('stream-ended')).toBeVisible({ timeout: 15_000 });
  } finally {
    for (const v of viewers) await v.context.close();
  }
});
