import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../apps/server/src/db/database.js';
import { testDatabases } from '../../apps/server/src/db/test-databases.js';
import { runChatBench } from './chat-bench.js';

// A smoke test of the benchmark's machinery, not of its numbers: a tiny room for a second, no engine
// (so no `chat:translation` at all: `chat:state` says chat is untranslated), and every original must
// arrive exactly once. Nothing here asserts a time.
let database: DatabaseHandle;
beforeAll(async () => {
  database = await testDatabases()[0]!.open();
});
afterAll(async () => {
  await database?.close();
});

it('the chat benchmark delivers every original and translation notice once', async () => {
  const r = await runChatBench({
    members: 12,
    rate: 20,
    seconds: 0.5,
    warmupSeconds: 0.25,
    languages: ['en', 'es', 'pt'],
    senderLanguages: ['es', 'en'],
    engine: 'none',
    clientProcesses: 1,
    drainSeconds: 10,
    idleSeconds: 0,
    database,
  });
  const w = r.window;
  expect(w.complete).toBe(true);
  expect(w.messages).toBe(10);
  expect(w.originals.count).toBe(10 * 12);
  expect(w.originals.duplicates).toBe(0);
  expect(w.translations.expected).toBe(0);
  expect(w.translations.received).toBe(0);
  expect(w.acks.count).toBe(10);
  expect(w.engineRequests).toBe(0);
  expect(r.join.count).toBe(12);
}, 30_000);
