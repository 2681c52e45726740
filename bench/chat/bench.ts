// Chat benchmark (issue 5): one live room, 1,000 members reading 4 languages, 50 messages/s; delivery
// latency of originals and translations, translation engine requests per message, server CPU per
// message, join time. Not a test: nothing here asserts a time. See bench/README.md ("Chat").
//
//   npm run bench:chat
//   BENCH_CHAT_SECONDS=3 BENCH_CHAT_MEMBERS=100 npm run bench:chat     # a short run
//   BENCH_CHAT_ENGINE=apertium npm run bench:chat                      # the server asks APy directly
//   BENCH_CHAT_SENDER_LANGUAGES=es,en,pt,fr npm run bench:chat         # senders in every language
import { type ChatBenchEngine, formatReport, jsonSummary, runChatBench } from './chat-bench.js';

const env = process.env;
const num = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const list = (name: string, fallback: string) =>
  (env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const engine = (env.BENCH_CHAT_ENGINE ?? 'libretranslate') as ChatBenchEngine;
if (!['libretranslate', 'apertium', 'none'].includes(engine)) {
  throw new Error('BENCH_CHAT_ENGINE is libretranslate (default), apertium or none');
}
const senderCount = num('BENCH_CHAT_SENDERS', 10);
// Apertium pairs installed here (apertium-eng-spa, -eng-cat, -es-pt, -fr-es): Spanish reaches English,
// Portuguese and French, so with Spanish senders every reader of another language gets a real translation.
const senderLanguages = list('BENCH_CHAT_SENDER_LANGUAGES', 'es');
const profile = env.BENCH_PROFILE ? (env.BENCH_PROFILE_DIR ?? '/tmp/ffprof') : undefined;

// Ctrl-C: exit, and the benchmark's exit handler kills what it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const result = await runChatBench({
  members: num('BENCH_CHAT_MEMBERS', 1000),
  rate: num('BENCH_CHAT_RATE', 50),
  seconds: num('BENCH_CHAT_SECONDS', 20),
  warmupSeconds: num('BENCH_CHAT_WARMUP_SECONDS', 3),
  languages: list('BENCH_CHAT_LANGUAGES', 'en,es,pt,fr'),
  senderLanguages: Array.from({ length: senderCount }, (_, i) => senderLanguages[i % senderLanguages.length]!),
  engine,
  clientProcesses: num('BENCH_CHAT_CLIENT_PROCESSES', 1),
  drainSeconds: num('BENCH_CHAT_DRAIN_SECONDS', 120),
  ...(profile ? { profileDir: profile } : {}),
  ...(env.BENCH_CHAT_LOG_LEVEL ? { logLevel: env.BENCH_CHAT_LOG_LEVEL as 'warn' } : {}),
  ...(env.BENCH_CHAT_BATCH_MS ? { batchMs: Number(env.BENCH_CHAT_BATCH_MS) } : {}),
  progress: (line) => console.error(`[bench:chat] ${line}`),
});
console.log(formatReport(result));
console.log(JSON.stringify(jsonSummary(result)));
process.exit(0);
