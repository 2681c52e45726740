import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testDatabases } from './db/test-databases.js';
import { connectPeer, type TestPeer } from './modules/signaling/test-signaling.js';
import { startTestPlatform, type TestPlatform } from './test-support.js';

/** The ack of a message, or 'disconnected' when the connection closed before one came. */
const ackOrDisconnect = (p: TestPeer, name: string, body: unknown): Promise<any> =>
  Promise.race([
    p.emitWithAck(name, body),
    new Promise((resolve) => p.socket.once('disconnect', () => resolve('disconnected'))),
  ]);

async function liveRoomWithTwo(t: TestPlatform) {
  const url = await t.platform.listen();
  const owner = await t.signUp('Olivia', { role: 'streamer', language: 'en' });
  const viewer = await t.signUp('Vera', { language: 'en' });
  const roomId = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'Bye' } })).body
    .id as string;
  const peers: TestPeer[] = [];
  for (const token of [owner.token, viewer.token]) {
    const p = await connectPeer(url, token);
    p.emit('join', { roomId });
    await p.next('joined');
    peers.push(p);
  }
  return { roomId, o: peers[0]!, v: peers[1]! };
}

const send = (p: TestPeer, roomId: string, text: string) =>
  ackOrDisconnect(p, 'chat:send', { roomId, text, clientId: randomUUID() });

describe.each(testDatabases())('shutdown order ($name)', (db) => {
  it('a closed service refuses work with unavailable while the gateway still runs', async () => {
    const t = await startTestPlatform(db, { port: 0 });
    try {
      const { roomId, o, v } = await liveRoomWithTwo(t);
      await t.platform.services.chat.close();
      expect(await send(o, roomId, 'after close')).toMatchObject({ ok: false, error: { code: 'unavailable' } });
      t.platform.services.signaling.close();
      const signal = await ackOrDisconnect(o, 'media-state', { camera: true, mic: true, screen: false });
      expect(signal).toMatchObject({ ok: false, error: { code: 'unavailable' } });
      t.platform.services.presence.close();
      expect(await ackOrDisconnect(v, 'leave', undefined)).toMatchObject({ ok: false, error: { code: 'unavailable' } });
      o.close();
      v.close();
    } finally {
      await t.close();
    }
  });

  it('stops intake first, closes the modules, then the gateway: nothing is handled, sent or timed after close', async () => {
    const t = await startTestPlatform(db, { port: 0, chatBatchMs: 200, chatMessagesPer10s: 100 });
    let databaseOpen = true;
    try {
      const { roomId, o, v } = await liveRoomWithTwo(t);
      // The first message opens a batch window; the second waits in it (a timer is running).
      expect(await send(o, roomId, 'one')).toMatchObject({ ok: true });
      expect(await send(o, roomId, 'two')).toMatchObject({ ok: true });

      const gateway = t.platform.services.realtime;
      let closed = false;
      const afterClose: string[] = [];
      for (const method of ['emitToRoom', 'emitToRoomLanguage', 'emitToPeer'] as const) {
        const original = (gateway[method] as (...args: unknown[]) => unknown).bind(gateway);
        (gateway as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
          if (closed) afterClose.push(`${method} ${String(args.at(-2))}`);
          return original(...args);
        };
      }

      // A burst still in flight when the platform closes.
      const burst = Array.from({ length: 8 }, (_, i) => send(o, roomId, `burst ${i}`));
      const tail = Array.from({ length: 4 }, (_, i) => send(v, roomId, `tail ${i}`));
      await t.platform.close('test');
      closed = true;

      const answers = await Promise.all([...burst, ...tail]);
      for (const a of answers) {
        // Handled before intake stopped, refused after it, or never received before the gateway closed.
        if (a !== 'disconnected' && !a.ok) expect(a.error.code).toBe('unavailable');
      }
      const handled = answers.filter((a) => a !== 'disconnected' && a.ok).length;
      const stored = await t.database.db
        .selectFrom('chat_messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('room_id', '=', roomId)
        .executeTakeFirstOrThrow();
      expect(Number(stored.n)).toBe(2 + handled);

      // Any batch window or grace timer left would fire within this wait; none may.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(afterClose).toEqual([]);
      expect(t.platform.services.presence.pendingTimers).toBe(0);
      expect(gateway.size).toBe(0);
      // The last frames the batch held went out before the gateway closed: the viewer got "two".
      const seen = [...v.pending('chat:message'), ...v.pending('chat:batch').flatMap((b) => b.messages)].map(
        (m) => m.text,
      );
      expect(seen).toContain('two');
      await t.database.close();
      databaseOpen = false;
    } finally {
      if (databaseOpen) await t.close();
    }
  });
});
