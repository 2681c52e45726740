import type {
  APIRequestContext,
  Browser,
  BrowserContext,
  BrowserContextOptions,
  Locator,
  Page,
} from '@playwright/test';
import { newAccount, signUp, type TestAccount } from './accounts.js';
import { expect, isNetworkFailureLog } from './test.js';

/** One person in a call: their own browser context (cookies, session), page and account. */
export interface Participant {
  name: string;
  account: TestAccount;
  context: BrowserContext;
  page: Page;
  /** Errors their page threw or logged. */
  errors: string[];
}

/** A new browser context with a signed-up account (a browser launched by hand needs its baseURL). */
export async function participant(
  browser: Browser,
  name: string,
  options: BrowserContextOptions = {},
): Promise<Participant> {
  const context = await browser.newContext(options);
  const errors: string[] = [];
  context.on('weberror', (e) => errors.push(`uncaught: ${e.error().message}`));
  context.on('console', (m) => {
    if (m.type() === 'error' && !isNetworkFailureLog(m.text())) errors.push(`console: ${m.text()}`);
  });
  const page = await context.newPage();
  const account = newAccount('viewer', name);
  await signUp(page, account);
  return { name, account, context, page, errors };
}

/** Close everyone's context; fail if any page threw or logged an error. */
export async function closeAll(people: Participant[]): Promise<void> {
  for (const p of people) await p.context.close();
  expect(people.flatMap((p) => p.errors.map((e) => `${p.name}: ${e}`))).toEqual([]);
}

/** Create a call room through the form; returns its URL. */
export async function createCall(page: Page, title: string): Promise<string> {
  await page.goto('/create');
  await page.getByLabel(/^Call/).check();
  await page.getByLabel('Title', { exact: true }).fill(title);
  await page.getByRole('button', { name: 'Create room' }).click();
  await expect(page).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  return page.url();
}

export const callRoom = (page: Page) => page.getByTestId('call-room');

/** Open the room and join its call from the lobby. */
export async function joinCall(page: Page, url: string, options: { relayOnly?: boolean } = {}): Promise<void> {
  if (page.url() !== url) await page.goto(url);
  if (options.relayOnly) await page.getByTestId('call-relay-only').check();
  await page.getByTestId('call-join').click();
  await expect(callRoom(page)).toHaveAttribute('data-status', 'joined');
}

export const tileOf = (page: Page, name: string): Locator =>
  page.locator(`[data-testid="peer-tile"][data-name="${name}"]`);

/** Video frames this page has decoded from that participant (from getStats, via the tile). */
export async function framesFrom(page: Page, name: string): Promise<number> {
  return Number((await tileOf(page, name).getAttribute('data-frames')) ?? 0);
}

/**
 * The page decodes that participant's video now: frames decoded (getStats, sampled every 500 ms
 * into the tile) are above zero and still rising, and reconciliation says live. Judged on one
 * consistent look at a time, so a connection that just went away does not pass on old numbers.
 */
export async function expectDecoding(page: Page, name: string, timeout = 20_000): Promise<void> {
  const tile = tileOf(page, name);
  await expect
    .poll(
      async () => {
        const first = await framesFrom(page, name);
        await page.waitForTimeout(700);
        const second = await framesFrom(page, name);
        const reconcile = await tile.getAttribute('data-reconcile');
        return first > 0 && second > first && reconcile === 'live-media';
      },
      { timeout, intervals: [100] },
    )
    .toBe(true);
}

export function roomIdOf(url: string): string {
  return new URL(url).pathname.split('/').pop()!;
}

export async function selfPeerId(page: Page): Promise<string> {
  const id = await callRoom(page).getAttribute('data-peer-id');
  if (!id) throw new Error('not in a call');
  return id;
}

/** A counter from the server's /metrics (summed over label sets that contain `labels`). */
export async function metric(request: APIRequestContext, name: string, labels = ''): Promise<number> {
  const text = await (await request.get('/metrics')).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (match && match[1] === name && (match[2] ?? '').includes(labels)) sum += Number(match[3]);
  }
  return sum;
}

/**
 * The sender turns its camera off and on again while the server drops its own confirmation of "on" (the next
 * media-state to it), so the receiver is told the camera is on but no frames come: the sender never got the word
 * to send them. `beforeOn` runs just before the camera goes on again (read a metric there). Returns when the
 * receiver shows the camera on, with the moment it was switched on.
 */
export async function loseCameraOnConfirmation(
  request: APIRequestContext,
  o: { sender: Page; receiver: Page; senderName: string; url: string; beforeOn?: () => Promise<void> },
): Promise<{ senderTile: Locator; toggledAt: number }> {
  const senderTile = tileOf(o.receiver, o.senderName);
  await o.sender.getByTestId('toggle-camera').click();
  await expect(senderTile).toHaveAttribute('data-camera', 'off');
  await expect(o.sender.getByTestId('self-tile').getByText('Applying…')).toHaveCount(0);
  // The tile's frame count is sampled from getStats every 500 ms: on a loaded machine a sample taken after the
  // toggle still counts frames decoded before it. Wait until the count stands still, so that frames counted
  // later can only come from the repair.
  await expect
    .poll(
      async () => {
        const first = await framesFrom(o.receiver, o.senderName);
        await o.receiver.waitForTimeout(1200);
        return (await framesFrom(o.receiver, o.senderName)) === first;
      },
      { timeout: 15_000, intervals: [100] },
    )
    .toBe(true);
  const hook = await request.post('/api/test-hooks/drop-media-state', {
    data: { roomId: roomIdOf(o.url), peerId: await selfPeerId(o.sender) },
  });
  expect(hook.status()).toBe(204);
  await o.beforeOn?.();
  await o.sender.getByTestId('toggle-camera').click();
  const toggledAt = Date.now();
  await expect(senderTile).toHaveAttribute('data-camera', 'on');
  return { senderTile, toggledAt };
}
