import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { newAccount, signUp } from '../support/accounts.js';
import { expect, test } from '../support/test.js';
import { inboundMedia, trackPeerConnections } from '../support/webrtc.js';

const script = fileURLToPath(new URL('../support/gst-whip-publish.py', import.meta.url));

test.describe.configure({ timeout: 120_000 });

test('GStreamer webrtcbin publishes over WHIP with a stream key; Chromium plays it over WHEP', async ({
  page,
  browser,
}) => {
  const streamer = newAccount('streamer');
  await signUp(page, streamer);
  await page.getByRole('link', { name: 'Create room' }).click();
  await page.getByLabel(/^Live broadcast/).check();
  await page.getByLabel('Title', { exact: true }).fill(`Encoder ${Date.now()}`);
  await page.getByRole('button', { name: 'Create room' }).click();
  await expect(page).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  const roomUrl = page.url();

  // The studio hands out the WHIP URL and a stream key for encoders.
  await page.getByText('Stream from OBS or another encoder').click();
  await page.getByTestId('make-stream-key').click();
  const key = await page.getByTestId('stream-key').inputValue();
  const whipUrl = await page.getByTestId('whip-url').inputValue();
  expect(key).toMatch(/^sk_/);
  expect(whipUrl).toBe(`${new URL(roomUrl).origin}/api/whip/publish/${roomUrl.split('/').pop()}`);

  let gst: ChildProcess | undefined;
  let output = '';
  let passed = false;
  try {
    gst = spawn('/usr/bin/python3', [script, whipUrl, key], { stdio: ['ignore', 'pipe', 'pipe'] });
    gst.stdout!.on('data', (d) => {
      output += d;
    });
    gst.stderr!.on('data', (d) => {
      output += d;
    });
    await expect.poll(() => output, { timeout: 20_000, message: 'GStreamer published' }).toContain('published');
    await expect(page.getByTestId('room-status')).toHaveText('Live', { timeout: 20_000 });

    const context = await browser.newContext();
    try {
      await trackPeerConnections(context);
      const viewer = await context.newPage();
      await viewer.goto(roomUrl);
      await expect(viewer.getByTestId('watch')).toBeVisible();
      await expect.poll(async () => (await inboundMedia(viewer)).framesDecoded, { timeout: 30_000 }).toBeGreaterThan(0);
      await expect.poll(async () => (await inboundMedia(viewer)).audioPackets, { timeout: 30_000 }).toBeGreaterThan(0);
      passed = true;
    } finally {
      await context.close();
    }
  } finally {
    if (gst && gst.exitCode === null) {
      const exited = new Promise((r) => gst!.once('exit', r));
      gst.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (gst.exitCode === null) gst.kill('SIGKILL');
    }
    // GStreamer's own account, when something went wrong.
    if (!passed)
      console.log(
        output
          .split('\n')
          .filter((l) => !l.includes('g_object'))
          .slice(0, 40)
          .join('\n'),
      );
  }
});
