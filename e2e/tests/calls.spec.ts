import { createHmac } from 'node:crypto';
import {
  callRoom,
  closeAll,
  createCall,
  expectDecoding,
  framesFrom,
  joinCall,
  loseCameraOnConfirmation,
  metric,
  type Participant,
  participant,
  roomIdOf,
  selfPeerId,
  tileOf,
} from '../support/calls.js';
import { E2E_ENV } from '../support/server-env.js';
import { expect, test } from '../support/test.js';

test.describe.configure({ timeout: 120_000 });

test('two people in a call see each other: both decode frames', async ({ browser }) => {
  const people: Participant[] = [];
  try {
    const ana = await participant(browser, 'Ana Two');
    const ben = await participant(browser, 'Ben Two');
    people.push(ana, ben);
    const url = await createCall(ana.page, 'Two of us');
    // A call is not a broadcast: an invite link to copy, no Go live, no tip box, no viewer count.
    await expect(ana.page.getByTestId('copy-room-link')).toHaveText('Copy invite link');
    await expect(ana.page.getByTestId('copy-room-link')).toHaveAttribute('data-url', url);
    await expect(ana.page.getByRole('button', { name: 'Go live' })).toHaveCount(0);
    await ben.page.goto(url);
    await expect(ben.page.getByTestId('tip-form')).toHaveCount(0);
    await expect(ben.page.getByText(/viewers?$/)).toHaveCount(0);
    await joinCall(ana.page, url);
    await joinCall(ben.page, url);
    await expectDecoding(ana.page, 'Ben Two');
    await expectDecoding(ben.page, 'Ana Two');
    await expect(tileOf(ben.page, 'Ana Two')).toHaveAttribute('data-mic', 'on');
    await expect(tileOf(ben.page, 'Ana Two').getByTestId('peer-muted')).toHaveCount(0);
    // The room went live with its first member.
    await expect(ana.page.getByTestId('room-status')).toHaveText('Live');

    // Leaving is seen at once.
    await ben.page.getByTestId('call-leave').click();
    await expect(tileOf(ana.page, 'Ben Two')).toHaveCount(0);
  } finally {
    await closeAll(people);
  }
});

test('each tile shows how its connection is doing, and the control plane counts the join times', async ({
  browser,
  request,
}, testInfo) => {
  const people: Participant[] = [];
  try {
    const ana = await participant(browser, 'Ana Quality');
    const ben = await participant(browser, 'Ben Quality');
    people.push(ana, ben);
    const joinsBefore = await metric(request, 'call_join_seconds_count');
    const hostBefore = await metric(request, 'ice_candidate_type_total', 'kind="call",type="host"');
    const url = await createCall(ana.page, 'Quality');
    await joinCall(ana.page, url);
    await joinCall(ben.page, url);
    await expectDecoding(ben.page, 'Ana Quality');
    await expectDecoding(ana.page, 'Ben Quality');

    // The badge is computed from getStats: frames decoded behind it, a frame rate, a round trip, the direct path.
    const badge = tileOf(ben.page, 'Ana Quality').getByTestId('connection-quality');
    await expect(badge).toBeVisible();
    await expect(badge).toHaveAttribute('data-level', /^(good|fair|poor)$/);
    await expect(badge).toHaveAttribute('data-path', 'direct');
    await expect.poll(async () => Number(await badge.getAttribute('data-frames'))).toBeGreaterThan(0);
    await expect.poll(async () => Number((await badge.getAttribute('data-fps')) || 0)).toBeGreaterThan(0);
    await expect(badge).toHaveAttribute('data-rtt', /^\d+$/);
    await expect(badge).toHaveAttribute(
      'aria-label',
      /^(Good|Fair|Poor) connection: packet loss [\d.]+ %, round trip \d+ ms, \d+ frames per second, direct$/,
    );
    await expect(badge).toHaveAttribute('title', (await badge.getAttribute('aria-label'))!);
    await expect(ben.page.getByTestId('relay-notice')).toHaveCount(0);
    await expect(ben.page.getByTestId('call-reconnecting')).toHaveCount(0);
    await ben.page.screenshot({ path: testInfo.outputPath('call-quality.png') });

    // Each side reported its join (click to first frame) and its route once its first frame was decoded.
    await expect.poll(() => metric(request, 'call_join_seconds_count')).toBeGreaterThanOrEqual(joinsBefore + 2);
    expect(await metric(request, 'ice_candidate_type_total', 'kind="call",type="host"')).toBeGreaterThanOrEqual(
      hostBefore + 2,
    );
    await ben.page.getByTestId('call-leave').click();
    await ana.page.getByTestId('call-leave').click();
    expect(await metric(request, 'call_join_seconds_count')).toBeGreaterThanOrEqual(1);
  } finally {
    await closeAll(people);
  }
});

test('three people form a mesh: everyone decodes everyone', async ({ browser }) => {
  const people: Participant[] = [];
  try {
    for (const name of ['Ana Mesh', 'Ben Mesh', 'Cy Mesh']) people.push(await participant(browser, name));
    const url = await createCall(people[0]!.page, 'Mesh');
    for (const p of people) await joinCall(p.page, url);
    for (const viewer of people) {
      await expect(viewer.page.getByTestId('peer-tile')).toHaveCount(2);
      for (const other of people) if (other !== viewer) await expectDecoding(viewer.page, other.name);
    }
  } finally {
    await closeAll(people);
  }
});

test('camera and microphone toggles are seen by the other side', async ({ browser }) => {
  const people: Participant[] = [];
  try {
    const ana = await participant(browser, 'Ana Toggle');
    const ben = await participant(browser, 'Ben Toggle');
    people.push(ana, ben);
    const url = await createCall(ana.page, 'Toggles');
    await joinCall(ana.page, url);
    await joinCall(ben.page, url);
    await expectDecoding(ben.page, 'Ana Toggle');
    const anaAtBen = tileOf(ben.page, 'Ana Toggle');

    await ana.page.getByTestId('toggle-camera').click();
    await expect(anaAtBen).toHaveAttribute('data-camera', 'off');
    await expect(anaAtBen.getByTestId('peer-avatar')).toBeVisible();
    await expect(anaAtBen.getByTestId('peer-video')).toBeHidden();
    // No frames while the camera is off, and nothing to repair: audio still flows. The tile says "off" as soon as
    // the media state arrives, while the camera's last frames may still be on their way: wait for the count to
    // settle (a live camera adds about 15 every half second), then almost none for 1.5 s.
    let frozen = await framesFrom(ben.page, 'Ana Toggle');
    await expect
      .poll(
        async () => {
          const now = await framesFrom(ben.page, 'Ana Toggle');
          const added = now - frozen;
          frozen = now;
          return added;
        },
        { intervals: [500], timeout: 10_000, message: 'frames stop once the camera is off' },
      )
      .toBeLessThanOrEqual(2);
    await ana.page.waitForTimeout(1500);
    // A live camera adds about 45 frames in 1.5 s; Chromium still decodes a few stragglers at a low rate.
    expect(await framesFrom(ben.page, 'Ana Toggle')).toBeLessThanOrEqual(frozen + 15);
    await expect(anaAtBen).toHaveAttribute('data-reconcile', 'live-media');

    await ana.page.getByTestId('toggle-mic').click();
    await expect(anaAtBen.getByTestId('peer-muted')).toBeVisible();
    await expect(anaAtBen).toHaveAttribute('data-mic', 'off');
    await expect(anaAtBen).toHaveAttribute('data-reconcile', 'connected');

    await ana.page.getByTestId('toggle-camera').click();
    await ana.page.getByTestId('toggle-mic').click();
    await expect(anaAtBen).toHaveAttribute('data-camera', 'on');
    await expect(anaAtBen.getByTestId('peer-avatar')).toHaveCount(0);
    await expect(anaAtBen.getByTestId('peer-muted')).toHaveCount(0);
    await expectDecoding(ben.page, 'Ana Toggle');
  } finally {
    await closeAll(people);
  }
});

test('a lost media-state message is recovered through replay-request', async ({ browser, request }) => {
  const people: Participant[] = [];
  try {
    const ana = await participant(browser, 'Ana Drop');
    const ben = await participant(browser, 'Ben Drop');
    people.push(ana, ben);
    const url = await createCall(ana.page, 'Lost message');
    await joinCall(ana.page, url);
    await joinCall(ben.page, url);
    await expectDecoding(ben.page, 'Ana Drop');
    let replaysBefore = 0;
    const { senderTile: anaAtBen, toggledAt } = await loseCameraOnConfirmation(request, {
      sender: ana.page,
      receiver: ben.page,
      senderName: 'Ana Drop',
      url,
      beforeOn: async () => {
        replaysBefore = await metric(request, 'signaling_replay_requests_total', 'reason="media-missing"');
      },
    });
    // Ben's client sees the missing frames, asks for a replay, and the video comes back.
    // How long the repair takes is a figure (printed), not an assertion: on a loaded machine it varies.
    await expect(anaAtBen).toHaveAttribute('data-reconcile', 'live-media', { timeout: 20_000 });
    const before = await framesFrom(ben.page, 'Ana Drop');
    await expect.poll(() => framesFrom(ben.page, 'Ana Drop'), { timeout: 20_000 }).toBeGreaterThan(before);
    console.log(`figures: ${JSON.stringify({ lostMediaStateRepairedMs: Date.now() - toggledAt })}`);
    expect(await metric(request, 'signaling_replay_requests_total', 'reason="media-missing"')).toBeGreaterThan(
      replaysBefore,
    );
  } finally {
    await closeAll(people);
  }
});

test('a call recovers by itself when the connection is cut, and after a page reload', async ({ browser, request }) => {
  const people: Participant[] = [];
  try {
    const ana = await participant(browser, 'Ana Cut');
    const ben = await participant(browser, 'Ben Cut');
    people.push(ana, ben);
    const url = await createCall(ana.page, 'Cut');
    await joinCall(ana.page, url);
    await joinCall(ben.page, url);
    await expectDecoding(ben.page, 'Ana Cut');
    const anaPeer = await selfPeerId(ana.page);

    const resumedBefore = await metric(request, 'realtime_reconnects_total');
    const cut = await request.post('/api/test-hooks/drop-connection', {
      data: { roomId: roomIdOf(url), peerId: anaPeer },
    });
    expect(cut.status()).toBe(204);
    // Ana's client reconnects and resumes her slot: same peer, no one left or joined.
    await expect.poll(() => metric(request, 'realtime_reconnects_total')).toBeGreaterThan(resumedBefore);
    await expect(callRoom(ana.page)).toHaveAttribute('data-status', 'joined');
    expect(await selfPeerId(ana.page)).toBe(anaPeer);
    await expect(ben.page.getByTestId('peer-tile')).toHaveCount(1);
    await expect(tileOf(ben.page, 'Ana Cut')).toHaveAttribute('data-peer-id', anaPeer);
    await expectDecoding(ben.page, 'Ana Cut');
    await expectDecoding(ana.page, 'Ben Cut');

    // A reload rejoins by itself and takes the same slot back; media flows both ways again.
    await ben.page.reload();
    await expect(callRoom(ben.page)).toHaveAttribute('data-status', 'joined', { timeout: 20_000 });
    await expect(ana.page.getByTestId('peer-tile')).toHaveCount(1);
    await expectDecoding(ana.page, 'Ben Cut');
    await expectDecoding(ben.page, 'Ana Cut');
  } finally {
    await closeAll(people);
  }
});

test('behind a network that allows only the relay, the call goes through TURN', async ({ browser }) => {
  const people: Participant[] = [];
  try {
    const ana = await participant(browser, 'Ana Relay');
    const ben = await participant(browser, 'Ben Relay');
    people.push(ana, ben);
    const url = await createCall(ana.page, 'Relayed');
    await joinCall(ana.page, url, { relayOnly: true });
    await joinCall(ben.page, url, { relayOnly: true });
    await expectDecoding(ana.page, 'Ben Relay', 30_000);
    await expectDecoding(ben.page, 'Ana Relay', 30_000);
    await expect(tileOf(ana.page, 'Ben Relay')).toHaveAttribute('data-route', 'relay');
    await expect(tileOf(ben.page, 'Ana Relay')).toHaveAttribute('data-route', 'relay');
    await expect(tileOf(ben.page, 'Ana Relay').getByTestId('connection-quality')).toHaveAttribute('data-path', 'relay');
    await expect(tileOf(ben.page, 'Ana Relay').getByTestId('connection-quality')).toContainText('Relay');
    // Relaying was this user's choice: no notice that the network forces it.
    await expect(ben.page.getByTestId('relay-notice')).toHaveCount(0);
  } finally {
    await closeAll(people);
  }
});

test('coturn refuses a wrong or expired TURN credential', async ({ page }) => {
  const urls = (process.env[E2E_ENV.turnUrls] ?? '').split(',').filter((u) => u.includes('udp'));
  const secret = process.env[E2E_ENV.turnSecret] ?? '';
  expect(urls).toHaveLength(1);
  const credentialFor = (username: string) => createHmac('sha1', secret).update(username).digest('base64');
  await page.goto('/');
  const gather = (username: string, credential: string) =>
    page.evaluate(
      async ({ urls, username, credential }) => {
        const pc = new RTCPeerConnection({ iceServers: [{ urls, username, credential }], iceTransportPolicy: 'relay' });
        const errors: number[] = [];
        const types: string[] = [];
        pc.onicecandidateerror = (e) => errors.push((e as RTCPeerConnectionIceErrorEvent).errorCode);
        pc.onicecandidate = (e) => {
          if (e.candidate?.type) types.push(e.candidate.type);
        };
        pc.createDataChannel('probe');
        await pc.setLocalDescription(await pc.createOffer());
        await new Promise<void>((resolve) => {
          const done = () => pc.iceGatheringState === 'complete' && resolve();
          pc.onicegatheringstatechange = done;
          done();
          setTimeout(resolve, 15_000);
        });
        pc.close();
        return { errors, types };
      },
      { urls, username, credential },
    );
  const now = Math.floor(Date.now() / 1000);
  const valid = `${now + 600}:e2e-user`;
  expect((await gather(valid, credentialFor(valid))).types).toContain('relay');

  const wrong = await gather(valid, 'not-the-right-password');
  expect(wrong.types).not.toContain('relay');
  expect(wrong.errors).toContain(401);

  const expired = `${now - 60}:e2e-user`;
  const old = await gather(expired, credentialFor(expired));
  expect(old.types).not.toContain('relay');
  expect(old.errors).toContain(401);
});
