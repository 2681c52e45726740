import type { Browser, Page } from '@playwright/test';
import { newAccount, signUp } from '../support/accounts.js';
import {
  closeAll,
  createCall,
  expectDecoding,
  framesFrom,
  joinCall,
  loseCameraOnConfirmation,
  type Participant,
  participant,
} from '../support/calls.js';
import { E2E_ENV } from '../support/server-env.js';
import { expect, test } from '../support/test.js';
import { inboundMedia, trackPeerConnections } from '../support/webrtc.js';
import { blockUdp, connect, disconnect, HOME_NETWORK, impair, type Person, resetLab } from './support/lab.js';
import { browserIn, pathOf, platformUrl, recordFigures, videoBackAfter, videoOver } from './support/people.js';
import { recordTimeline, timelineOf } from './support/timeline.js';

test.describe.configure({ timeout: 150_000 });

/** How long a person is off the network when they switch (the measurement: 3 s). */
const OFF_NETWORK_MS = 3000;

const browsers: Browser[] = [];
const people: Participant[] = [];

test.beforeEach(() => {
  test.skip(Boolean(process.env[E2E_ENV.networksSkip]), process.env[E2E_ENV.networksSkip]);
  resetLab();
});

test.afterEach(async () => {
  try {
    await closeAll(people.splice(0));
  } finally {
    for (const browser of browsers.splice(0)) await browser.close();
  }
});

/** A signed-up person whose Chromium runs in their namespace, with their peer connections tracked. */
async function personIn(person: Person, name: string): Promise<Participant> {
  const browser = await browserIn(person);
  browsers.push(browser);
  const p = await participant(browser, name, { baseURL: platformUrl() });
  people.push(p);
  await trackPeerConnections(p.context);
  await recordTimeline(p.context);
  return p;
}

/** Ana (in a) and Ben (in b) in one call, both decoding the other. Ana joins first. */
async function callOfTwo(title: string): Promise<{ ana: Participant; ben: Participant; url: string }> {
  const ana = await personIn('a', 'Ana Net');
  const ben = await personIn('b', 'Ben Net');
  const url = await createCall(ana.page, title);
  await joinCall(ana.page, url);
  await joinCall(ben.page, url);
  await expectDecoding(ana.page, 'Ben Net', 40_000);
  await expectDecoding(ben.page, 'Ana Net', 40_000);
  return { ana, ben, url };
}

/** A streamer (in `studioIn`) live from the studio page, and a viewer (in `viewerIn`) decoding it. */
async function broadcast(studioIn: Person, viewerIn: Person): Promise<{ studio: Page; viewer: Page }> {
  const studioBrowser = await browserIn(studioIn);
  const viewerBrowser = await browserIn(viewerIn);
  browsers.push(studioBrowser, viewerBrowser);
  const studioContext = await studioBrowser.newContext({ baseURL: platformUrl() });
  await trackPeerConnections(studioContext);
  await recordTimeline(studioContext);
  const studio = await studioContext.newPage();
  await signUp(studio, newAccount('streamer'));
  await studio.getByRole('link', { name: 'Create room' }).click();
  await studio.getByLabel(/^Live broadcast/).check();
  await studio.getByLabel('Title', { exact: true }).fill(`Networks ${Date.now()}`);
  await studio.getByRole('button', { name: 'Create room' }).click();
  await expect(studio).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  await expect
    .poll(() => studio.getByTestId('studio-preview').evaluate((v: HTMLVideoElement) => v.videoWidth))
    .toBeGreaterThan(0);
  await studio.getByTestId('go-live').click();
  await expect(studio.getByTestId('on-air')).toBeVisible({ timeout: 30_000 });
  const viewerContext = await viewerBrowser.newContext({ baseURL: platformUrl() });
  await trackPeerConnections(viewerContext);
  await recordTimeline(viewerContext);
  const viewer = await viewerContext.newPage();
  // Signed in: TURN costs the operator, so guests get STUN only (IceServerIssuer) and no relay behind a UDP block.
  await signUp(viewer, newAccount('viewer'));
  await viewer.goto(studio.url());
  await expect.poll(async () => (await inboundMedia(viewer)).framesDecoded, { timeout: 40_000 }).toBeGreaterThan(0);
  return { studio, viewer };
}

/** Take the person off the network for OFF_NETWORK_MS and back on another one; returns when it is up. */
async function switchNetwork(page: Page, person: Person, network: number): Promise<number> {
  disconnect(person);
  await page.waitForTimeout(OFF_NETWORK_MS);
  connect(person, network);
  return Date.now();
}

test('direct: a call goes host to host through the router', async () => {
  const { ana, ben } = await callOfTwo('Direct');
  // The pair ICE settles on is host to host. Chromium may use the first pair that answers (a relay one, on a busy
  // machine) until its checks of the better pairs succeed, so the path is read until it settles.
  for (const page of [ana.page, ben.page]) {
    await expect
      .poll(async () => pathOf(page), { timeout: 15_000, message: 'the call settles on a direct path' })
      .toMatchObject({ local: expect.not.stringMatching(/^relay$/), remote: expect.not.stringMatching(/^relay$/) });
  }
  recordFigures('direct call', {
    anaFps: (await videoOver(ana.page, 5000)).fps,
    benFps: (await videoOver(ben.page, 5000)).fps,
  });
});

test('UDP blocked: a call goes through coturn over TCP', async () => {
  blockUdp(HOME_NETWORK.a);
  const { ana, ben } = await callOfTwo('No UDP');
  const path = await pathOf(ana.page);
  expect(path).toMatchObject({ local: 'relay', relayProtocol: 'tcp' });
  recordFigures('call, UDP blocked', {
    anaFps: (await videoOver(ana.page, 5000)).fps,
    benFps: (await videoOver(ben.page, 5000)).fps,
  });
});

test('UDP blocked: a WHEP viewer watches through coturn over TCP', async () => {
  blockUdp(HOME_NETWORK.a);
  const { viewer } = await broadcast('b', 'a');
  expect(await pathOf(viewer)).toMatchObject({ local: 'relay', relayProtocol: 'tcp' });
  recordFigures('watch, UDP blocked', { viewerFps: (await videoOver(viewer, 5000)).fps });
});

test('5% loss and 150 ms each way: the call keeps its picture', async () => {
  await impair({ lossPercent: 5, delayMs: 150 });
  const { ana, ben } = await callOfTwo('Lossy');
  const [atAna, atBen] = await Promise.all([videoOver(ana.page, 10_000), videoOver(ben.page, 10_000)]);
  expect(atAna.fps).toBeGreaterThan(0);
  expect(atBen.fps).toBeGreaterThan(0);
  recordFigures('call, 5% loss + 150 ms each way', { atAna, atBen });
});

test('a lost media-state over a slow network (150 ms each way) is repaired by reconciliation', async ({ request }) => {
  await impair({ delayMs: 150 });
  const { ana, ben, url } = await callOfTwo('Lost message');
  const { senderTile: anaAtBen, toggledAt } = await loseCameraOnConfirmation(request, {
    sender: ana.page,
    receiver: ben.page,
    senderName: 'Ana Net',
    url,
  });
  // Ben sees no frames, asks for a replay, and the video comes back.
  const before = await framesFrom(ben.page, 'Ana Net');
  await expect.poll(() => framesFrom(ben.page, 'Ana Net'), { timeout: 20_000 }).toBeGreaterThan(before);
  await expect(anaAtBen).toHaveAttribute('data-reconcile', 'live-media');
  recordFigures('call, lost media-state over 150 ms each way', { repairedMs: Date.now() - toggledAt });
});

for (const mover of ['a', 'b'] as const) {
  const who = mover === 'a' ? 'the one who joined first' : 'the one who joined second';
  test(`network switch of ${who}: video comes back both ways`, async () => {
    const { ana, ben } = await callOfTwo(`Switch ${mover}`);
    const moverPage = mover === 'a' ? ana.page : ben.page;
    const up = await switchNetwork(moverPage, mover, HOME_NETWORK[mover] + 10);
    const [atAna, atBen] = await Promise.all([videoBackAfter(ana.page, up), videoBackAfter(ben.page, up)]);
    await expectDecoding(ana.page, 'Ben Net');
    await expectDecoding(ben.page, 'Ana Net');
    recordFigures(`call, network switch of ${who}`, {
      videoBackAtAnaMs: atAna,
      videoBackAtBenMs: atBen,
      peerConnections: { ana: (await inboundMedia(ana.page)).peers, ben: (await inboundMedia(ben.page)).peers },
      timelines: { ana: await timelineOf(ana.page, up), ben: await timelineOf(ben.page, up) },
    });
  });
}

test('network switch of a WHEP viewer: the picture comes back without the viewer acting', async () => {
  const { viewer } = await broadcast('b', 'a');
  const up = await switchNetwork(viewer, 'a', HOME_NETWORK.a + 10);
  const back = await videoBackAfter(viewer, up);
  recordFigures('watch, network switch of the viewer', {
    videoBackMs: back,
    peerConnections: (await inboundMedia(viewer)).peers,
    timeline: await timelineOf(viewer, up),
  });
});

test('network switch of the WHIP studio: viewers get the picture back', async () => {
  const { studio, viewer } = await broadcast('a', 'b');
  const up = await switchNetwork(studio, 'a', HOME_NETWORK.a + 10);
  const back = await videoBackAfter(viewer, up);
  await expect(studio.getByTestId('on-air')).toBeVisible();
  recordFigures('watch, network switch of the studio', {
    videoBackAtViewerMs: back,
    studioPeerConnections: (await inboundMedia(studio)).peers,
    timelines: { studio: await timelineOf(studio, up), viewer: await timelineOf(viewer, up) },
  });
});
