import {
  CircuitBreaker,
  Counter,
  Gauge,
  Histogram,
  LATENCY_BUCKETS,
  type Logger,
  type Registry,
} from '@fusionflow/kit';
import { baseLanguage, sameLanguage } from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Database } from '../../db/schema.js';
import {
  type EngineName,
  type LanguagePair,
  type TranslationEngine,
  TranslationEngineError,
} from './translation-engine.js';

export type TranslateOutcome =
  | { status: 'ok'; text: string; cached: boolean }
  | { status: 'unsupported' }
  | { status: 'unavailable'; reason: 'no_engine' | 'breaker_open' | 'overloaded' | 'error' | 'timeout' };

export interface TranslatorOptions {
  /** Absent: no engine configured; chat runs untranslated. */
  engine?: TranslationEngine;
  db: Kysely<Database>;
  /** Time limit of one engine request. */
  timeoutMs: number;
  breakerFailures: number;
  breakerCooldownMs: number;
  /** Translations kept in memory (the database keeps them all). */
  cacheEntries: number;
  /** Engine requests at once; more wait in a queue. */
  concurrency: number;
  /** Most requests waiting for the engine; beyond it a translation is reported unavailable at once. */
  maxQueue: number;
  /** How often the engine's list of pairs is read again. */
  pairsRefreshMs: number;
  metrics: Registry;
  logger: Logger;
}

/**
 * Translates chat text with the configured engine: once per (pair, text), whoever asks and however
 * many readers wait for it. In order: the same language answers itself; the memory cache, then a
 * request already on its way, then the database cache; then the engine, if it has the pair, within
 * the time limit, through the circuit breaker and a bounded queue. It never throws: every failure
 * is an outcome the chat can show ("translation unavailable").
 */
export class Translator {
  readonly #memory: LRUCache<string, string>;
  readonly #inFlight = new Map<string, Promise<TranslateOutcome>>();
  readonly #breaker: CircuitBreaker;
  readonly #log: Logger;
  readonly #outcomes: Counter<'engine' | 'outcome'>;
  readonly #latency: Histogram<'engine'>;
  readonly #cache: Counter<'result'>;
  #pairs: Set<string> | undefined;
  #pairsAt = 0;
  #pairsLoading: Promise<Set<string> | undefined> | undefined;
  #running = 0;
  readonly #queue: (() => void)[] = [];
  readonly #abort = new AbortController();
  /** Engine requests made (the benchmark reads it: requests per message). */
  engineRequests = 0;

  constructor(private readonly o: TranslatorOptions) {
    this.#log = o.logger;
    this.#memory = new LRUCache({ max: Math.max(1, o.cacheEntries) });
    const engine = this.engineName;
    this.#breaker = new CircuitBreaker({
      failureThreshold: o.breakerFailures,
      cooldownMs: o.breakerCooldownMs,
      onChange: (state) => {
        if (state === 'open') this.#log.warn({ engine }, 'translation engine failing; circuit breaker open');
        else this.#log.info({ engine, state }, 'translation circuit breaker');
      },
    });
    const breaker = this.#breaker;
    this.#outcomes = new Counter({
      name: 'chat_translations_total',
      help: 'Translations asked for, by engine and outcome (ok, cached, unsupported, error, timeout, breaker_open, overloaded, no_engine)',
      labelNames: ['engine', 'outcome'] as const,
      registers: [o.metrics],
    });
    this.#latency = new Histogram({
      name: 'chat_translation_duration_seconds',
      help: 'Time of one translation engine request, successful or not',
      labelNames: ['engine'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [o.metrics],
    });
    this.#cache = new Counter({
      name: 'chat_translation_cache_total',
      help: 'Translation cache lookups, by result (hit: memory or database, miss: the engine was asked)',
      labelNames: ['result'] as const,
      registers: [o.metrics],
    });
    const cache = this.#cache;
    new Gauge({
      name: 'chat_translation_cache_hit_ratio',
      help: 'Share of translation lookups answered from the cache since start',
      registers: [o.metrics],
      async collect() {
        const values = (await cache.get()).values;
        const hits = values.find((v) => v.labels.result === 'hit')?.value ?? 0;
        const total = values.reduce((sum, v) => sum + v.value, 0);
        this.set(total === 0 ? 0 : hits / total);
      },
    });
    new Gauge({
      name: 'chat_translation_breaker_open',
      help: '1 while the translation circuit breaker refuses calls, else 0',
      registers: [o.metrics],
      collect() {
        this.set(breaker.state === 'open' ? 1 : 0);
      },
    });
  }

  get engineName(): EngineName | 'none' {
    return this.o.engine?.name ?? 'none';
  }

  /** An engine is configured and its circuit breaker lets calls through. */
  get available(): boolean {
    return this.o.engine !== undefined && this.#breaker.state !== 'open';
  }

  /** Translate `text` (whose SHA-256 is `textHash`) from `source` into `target`. Never throws. */
  translate(source: string, target: string, text: string, textHash: string): Promise<TranslateOutcome> {
    if (sameLanguage(source, target)) return Promise.resolve({ status: 'ok', text, cached: true });
    const key = `${source}|${target}|${textHash}`;
    const hit = this.#memory.get(key);
    if (hit !== undefined) {
      this.#cache.inc({ result: 'hit' });
      this.#outcomes.inc({ engine: this.engineName, outcome: 'cached' });
      return Promise.resolve({ status: 'ok', text: hit, cached: true });
    }
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const work = this.#lookup(source, target, text, textHash, key).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, work);
    return work;
  }

  /** Stop: waiting requests are answered unavailable, running ones aborted. Idempotent. */
  close(): void {
    this.#abort.abort();
    for (const next of this.#queue.splice(0)) next();
  }

  async #lookup(source: string, target: string, text: string, hash: string, key: string): Promise<TranslateOutcome> {
    const engine = this.engineName;
    const stored = await this.o.db
      .selectFrom('translation_cache')
      .select('translated')
      .where('source', '=', source)
      .where('target', '=', target)
      .where('text_hash', '=', hash)
      .executeTakeFirst()
      .catch((err: unknown) => {
        this.#log.warn({ err }, 'translation cache read failed');
        return undefined;
      });
    if (stored) {
      this.#memory.set(key, stored.translated);
      this.#cache.inc({ result: 'hit' });
      this.#outcomes.inc({ engine, outcome: 'cached' });
      return { status: 'ok', text: stored.translated, cached: true };
    }
    const outcome = await this.#ask(source, target, text);
    this.#outcomes.inc({ engine, outcome: outcome.status === 'unavailable' ? outcome.reason : outcome.status });
    if (outcome.status !== 'ok') return outcome;
    this.#cache.inc({ result: 'miss' });
    this.#memory.set(key, outcome.text);
    await this.o.db
      .insertInto('translation_cache')
      .values({ source, target, text_hash: hash, translated: outcome.text, engine })
      .onConflict((oc) => oc.doNothing())
      .execute()
      .catch((err: unknown) => this.#log.warn({ err }, 'translation cache write failed'));
    return outcome;
  }

  async #ask(source: string, target: string, text: string): Promise<TranslateOutcome> {
    const engine = this.o.engine;
    if (!engine) return { status: 'unavailable', reason: 'no_engine' };
    const pairs = await this.#knownPairs();
    if (!pairs) return { status: 'unavailable', reason: this.#breaker.state === 'open' ? 'breaker_open' : 'error' };
    const pair = resolvePair(pairs, source, target);
    if (!pair) return { status: 'unsupported' };
    if (this.#running >= this.o.concurrency) {
      if (this.#queue.length >= this.o.maxQueue) return { status: 'unavailable', reason: 'overloaded' };
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    }
    if (this.#abort.signal.aborted) return { status: 'unavailable', reason: 'error' };
    if (!this.#breaker.allow()) {
      this.#queue.shift()?.();
      return { status: 'unavailable', reason: 'breaker_open' };
    }
    this.#running += 1;
    const started = performance.now();
    this.engineRequests += 1;
    try {
      const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.o.timeoutMs)]);
      const translated = await engine.translate(text, pair, signal);
      this.#breaker.success();
      return { status: 'ok', text: translated, cached: false };
    } catch (err) {
      if (err instanceof TranslationEngineError && err.unsupported) {
        this.#breaker.success();
        return { status: 'unsupported' };
      }
      this.#breaker.failure();
      const timeout = err instanceof Error && err.name === 'TimeoutError';
      this.#log.warn({ engine: engine.name, err: err instanceof Error ? err.message : err }, 'translation failed');
      return { status: 'unavailable', reason: timeout ? 'timeout' : 'error' };
    } finally {
      this.#latency.observe({ engine: engine.name }, (performance.now() - started) / 1000);
      this.#running -= 1;
      this.#queue.shift()?.();
    }
  }

  /** The engine's pairs (`source|target`), read again every `pairsRefreshMs`; undefined while it fails. */
  async #knownPairs(): Promise<Set<string> | undefined> {
    const engine = this.o.engine;
    if (!engine) return undefined;
    const fresh = this.#pairs && Date.now() - this.#pairsAt < this.o.pairsRefreshMs;
    if (fresh) return this.#pairs;
    if (!this.#breaker.allow()) return this.#pairs;
    this.#pairsLoading ??= engine
      .pairs(AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.o.timeoutMs)]))
      .then(
        (list) => {
          this.#breaker.success();
          this.#pairs = new Set(list.map((p) => `${p.source}|${p.target}`));
          this.#pairsAt = Date.now();
          this.#log.info({ engine: engine.name, pairs: list.length }, 'translation pairs loaded');
          return this.#pairs;
        },
        (err: unknown) => {
          this.#breaker.failure();
          this.#log.warn(
            { engine: engine.name, err: err instanceof Error ? err.message : err },
            'could not list pairs',
          );
          return this.#pairs;
        },
      )
      .finally(() => {
        this.#pairsLoading = undefined;
      });
    return this.#pairsLoading;
  }

  /** The pairs the engine has now (for the operator's status and tests). */
  async pairs(): Promise<LanguagePair[]> {
    const set = await this.#knownPairs();
    return [...(set ?? [])].map((p) => {
      const [source = '', target = ''] = p.split('|');
      return { source, target };
    });
  }
}

function resolvePair(pairs: Set<string>, source: string, target: string): LanguagePair | undefined {
  for (const s of new Set([source, baseLanguage(source)])) {
    for (const t of new Set([target, baseLanguage(target)])) {
      if (pairs.has(`${s}|${t}`)) return { source: s, target: t };
    }
  }
  return undefined;
}
