import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSfu, TestPublisher, type TestSfu, TestSubscriber, waitFor } from '../test-peers.js';
import { serializeRecord } from './dtls-close-notify.js';

describe('DTLS close_notify when the SFU ends a session', () => {
  let t: TestSfu;
  beforeAll(async () => {
    t = await startTestSfu();
  });
  afterAll(() => t.close());

  it('a viewer hears close_notify the moment its publisher leaves: its DTLS transport closes', async () => {
    const pub = new TestPublisher();
    const published = await pub.publish(t.url, 'close-notify');
    expect(published.status).toBe(201);
    await pub.connected();
    pub.start();
    const sub = new TestSubscriber();
    expect((await sub.play(t.url, 'close-notify')).status).toBe(201);
    await waitFor(() => sub.videoPackets > 5, 10_000, 'video at the viewer');
    const dtls = sub.pc.dtlsTransports[0]!;
    expect(dtls.state).toBe('connected');
    let closedAt = 0;
    dtls.onStateChange.subscribe((state) => {
      if (state === 'closed') closedAt = Date.now();
    });
    // the publisher ends its session (WHIP DELETE); the SFU ends the viewer's (publisher_left) and says so on DTLS
    const deleted = await fetch(new URL(published.location!, t.url), { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    await waitFor(() => closedAt > 0, 10_000, 'the viewer DTLS transport closed by close_notify');
    // werift's own ICE has no consent-freshness timeout, so nothing but the alert closes it this fast
    expect(sub.pc.iceConnectionState).not.toBe('failed');
    await sub.close();
    await pub.close();
  }, 30_000);

  it('serializes a record header as RFC 6347 §4.1 lays it out', () => {
    const record = serializeRecord(
      {
        contentType: 21,
        protocolVersion: { major: 254, minor: 253 },
        epoch: 1,
        sequenceNumber: 0x010203,
        contentLen: 2,
      },
      Buffer.from([1, 0]),
    );
    expect(record.toString('hex')).toBe('15fefd0001000000010203000201' + '00');
  });
});
