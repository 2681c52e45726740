import type {
  APIRequestContext,
  Browser,
  BrowserContext,
  BrowserContextOptions,
  Locator,
  Page,
} from '@playwright/test';
import { newAccount, signUp, type TestAccount } from './accounts.js';
import { expect } from './test.js';

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
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
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
