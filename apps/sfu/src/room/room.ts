import { randomBytes } from 'node:crypto';
import { AppError, Emitter, type Logger, logListenerErrors } from '@fusionflow/kit';
import {
  asRoomId,
  ErrorCode,
  type MediaEventType,
  type RecordingClaim,
  type RelayClaim,
  type RelayRequest,
  type SfuRoomInfo,
} from '@fusionflow/protocol';
import type { EventSink } from '../control/event-sink.js';
import type { PublishedTrack } from '../fanout/published-track.js';
import type { RoomMetrics, SfuMetrics } from '../metrics.js';
import { createPublisherPeer, createSubscriberPeer, type PeerNetworkOptions } from '../peer/peer-factory.js';
import { checkOffer } from '../peer/sdp.js';
import type { BroadcastRecordings } from '../recording/broadcast-recordings.js';
import { EdgeRelay, type EdgeRelaySettings } from '../relay/edge-relay.js';
import { OriginRelay } from '../relay/origin-relay.js';
import { RelayKeyPair } from '../relay/relay-cipher.js';
import { bindRelaySocket } from '../relay/relay-link.js';
import type { MediaSession, SessionTimings } from '../session/media-session.js';
import { PublisherSession } from '../session/publisher-session.js';
import { SubscriberSession } from '../session/subscriber-session.js';
import type { ViewerBudget } from './viewer-budget.js';

export interface RoomOptions {
  network: PeerNetworkOptions;
  timings: SessionTimings;
  maxSubscribers: number;
  /** Viewers of the whole SFU (every room shares it). */
  viewerBudget: ViewerBudget;
  nackCacheSize: number;
  publisherMaxBitrate: number;
  pliThrottleMs: number;
  metrics: SfuMetrics;
  events: EventSink;
  /** Relays between nodes (both ends); undefined without INTERNAL_SECRET, when this node neither feeds nor is fed. */
  relays?: EdgeRelaySettings;
  /** Recordings of broadcasts whose publish grant names one. */
  recordings?: BroadcastRecordings;
  logger: Logger;
}

/** Who a session is for: the grant's subject and id (null for shared tokens and open mode). */
export interface SessionHolder {
  userId: string | null;
  grantId: string | null;
  /** The recording the publish grant names (`rec`). */
  recording?: RecordingClaim | undefined;
  /** A viewer placed away from the room's origin: the origin to relay the room from (`relay`). */
  relay?: RelayClaim | undefined;
}

/** What viewers are fed from: the room's publisher, or on an edge the relay from its origin. */
interface StreamSource {
  readonly tracks: PublishedTrack[];
  readonly closed: boolean;
}

/** How long a viewer of a room nobody publishes to is asked to wait before trying again. */
const NO_PUBLISHER_RETRY_AFTER_SECONDS = 2;

/**
 * A publisher that has sent nothing for this long may be replaced by a new session of the same user: a studio that
 * reloaded or an encoder that reconnected, while its old peer connection has not timed out yet (its DTLS close may
 * never arrive). A publisher still sending is never replaced.
 */
export const PUBLISHER_STALE_MS = 2000;

/** What a room tells its manager. */
export interface RoomEvents extends Record<string, unknown> {
  /** Every session the room opens (the manager indexes them by id). */
  session: MediaSession;
  /** Told once: the room is empty or closed (the manager forgets it). */
  empty: Room;
}

/**
 * One broadcast: at most one publisher and any number of subscribers. The room owns its sessions;
 * when the publisher goes, every subscriber is closed (and told why); when the last session goes,
 * the room tells its manager, which forgets it. One grant plays at most one session at a time: a
 * new WHEP session with a grant replaces the one that grant opened before (a viewer who reloads
 * the page gets the new one at once; a grant shared around never opens more than one).
 */
export class Room extends Emitter<RoomEvents> {
  #publisher: PublisherSession | undefined;
  readonly #subscribers = new Map<string, SubscriberSession>();
  /** The live subscriber session of each grant id (grants are for one room, so kept here). */
  readonly #byGrant = new Map<string, SubscriberSession>();
  readonly metrics: RoomMetrics;
  readonly #logger: Logger;
  #joined = 0;
  #closed = false;
  /** A stale publisher is being replaced: the room stays although it may be empty for a moment. */
  #replacing = false;
  /** On an edge: the relay from the room's origin (and the request that opens it). */
  #relay: EdgeRelay | undefined;
  #relayOpening: Promise<EdgeRelay> | undefined;
  /** On the origin: relays feeding edges. */
  readonly #edges = new Set<OriginRelay>();

  constructor(
    readonly name: string,
    private readonly o: RoomOptions,
  ) {
    super(logListenerErrors(o.logger));
    this.metrics = o.metrics.forRoom(name);
    this.#logger = o.logger.child({ roomId: name });
  }

  get publisher(): PublisherSession | undefined {
    return this.#publisher;
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Subscribers whose media path is up: the viewer count. */
  get viewers(): number {
    return this.#joined;
  }

  get empty(): boolean {
    return !this.#publisher && this.#subscribers.size === 0 && !this.#relayOpening && !this.#relay;
  }

  /** The origin node this room is relayed from (an edge's room). */
  get relayFrom(): string | undefined {
    return this.#relay && !this.#relay.closed ? this.#relayOrigin : undefined;
  }

  #relayOrigin: string | undefined;

  /** Relays feeding edges from this room's publisher. */
  get edgeRelays(): OriginRelay[] {
    return [...this.#edges];
  }

  /** The room's whole audience: its own viewers, every edge's, and (on an edge) the rest the origin counts. */
  get audience(): number {
    let n = this.#joined + (this.#relay?.othersViewers ?? 0);
    for (const e of this.#edges) n += e.viewers;
    return n;
  }

  info(): SfuRoomInfo {
    return {
      room: this.name,
      publisher: this.#publisher?.info() ?? null,
      subscribers: [...this.#subscribers.values()].map((s) => s.info()),
      layers: this.#publisher?.layers ?? this.#relay?.layers ?? [],
    };
  }

  sessions(): MediaSession[] {
    return [...(this.#publisher ? [this.#publisher] : []), ...this.#subscribers.values()];
  }

  /**
   * A second publisher (even with the same grant) is refused: replacing it would cut every viewer off. The one
   * exception: the same user again while the current publisher has sent nothing for PUBLISHER_STALE_MS (its page
   * reloaded, its encoder reconnected); the stale session closes as `replaced`, a transport loss the recording and
   * the control plane wait through.
   */
  async publish(offer: string, holder: SessionHolder): Promise<{ session: PublisherSession; answer: string }> {
    checkOffer(offer);
    if (this.#closed) throw new AppError(ErrorCode.Conflict, 'the room is closing');
    const stale = this.#publisher;
    if (stale) {
      if (stale.userId !== holder.userId || stale.mediaIdleMs() < PUBLISHER_STALE_MS || this.#replacing) {
        throw new AppError(ErrorCode.PublisherExists, `room ${this.name} already has a publisher`);
      }
      this.#logger.info({ sessionId: stale.id }, 'the publisher is back on a new session: the stale one is replaced');
      this.#replacing = true;
      try {
        await stale.close('replaced');
      } finally {
        this.#replacing = false;
      }
      if (this.#publisher) throw new AppError(ErrorCode.PublisherExists, `room ${this.name} already has a publisher`);
    }
    const session = new PublisherSession(
      this.name,
      holder.userId,
      createPublisherPeer(this.o.network),
      this.o.timings,
      this.#logger,
      {
        metrics: this.metrics,
        nackCacheSize: this.o.nackCacheSize,
        pliThrottleMs: this.o.pliThrottleMs,
        maxBitrate: this.o.publisherMaxBitrate,
      },
    );
    this.#publisher = session;
    session.viewers = () => this.#joined;
    session.on('close', ({ reason }) => this.#publisherClosed(session, reason));
    session.on('started', () => this.#report('publisher_started', session));
    session.on('layers', () => {
      for (const sub of this.#subscribers.values()) sub.layersChanged();
    });
    this.emit('session', session);
    this.o.metrics.publishers.inc();
    const answer = await this.#negotiate(session, offer);
    this.o.recordings
      ?.attach(this.name, session, holder.recording)
      .catch((err: unknown) => this.#logger.error({ err }, 'the broadcast could not be recorded'));
    return { session, answer };
  }

  async subscribe(offer: string, holder: SessionHolder): Promise<{ session: SubscriberSession; answer: string }> {
    checkOffer(offer);
    let publisher: StreamSource | undefined = this.#publisher;
    if ((!publisher || publisher.closed) && holder.relay && !this.#closed)
      publisher = await this.#edgeRelay(holder.relay);
    if (!publisher || publisher.closed || publisher.tracks.length === 0 || this.#closed) {
      // draft-ietf-wish-whep: 409 with Retry-After; the player tries again and gets the stream once it starts.
      throw new AppError(
        ErrorCode.NoPublisher,
        `nobody is publishing to room ${this.name}`,
        { retryAfterSeconds: NO_PUBLISHER_RETRY_AFTER_SECONDS },
        { 'retry-after': String(NO_PUBLISHER_RETRY_AFTER_SECONDS) },
      );
    }
    try {
      if (this.#subscribers.size >= this.o.maxSubscribers) {
        throw new AppError(ErrorCode.RoomFull, `room ${this.name} has the most subscribers allowed`);
      }
      // Nothing awaits from here to the session being in #subscribers: a burst cannot overshoot the budget.
      this.o.viewerBudget.take(holder.grantId !== null && this.#byGrant.has(holder.grantId));
    } catch (err) {
      this.#releaseIdleRelay();
      throw err;
    }
    const codecs = {
      audio: publisher.tracks.find((t) => t.kind === 'audio')?.codec,
      video: publisher.tracks.find((t) => t.kind === 'video')?.codec,
    };
    let session: SubscriberSession;
    try {
      session = new SubscriberSession(
        this.name,
        holder.userId,
        createSubscriberPeer(this.o.network, codecs),
        this.o.timings,
        this.#logger,
        { sources: publisher.tracks, metrics: this.metrics },
      );
    } catch (err) {
      this.o.viewerBudget.give();
      throw err;
    }
    this.#subscribers.set(session.id, session);
    session.viewers = () => this.#joined;
    session.on('close', ({ reason }) => {
      if (holder.grantId && this.#byGrant.get(holder.grantId) === session) this.#byGrant.delete(holder.grantId);
      this.#subscriberClosed(session, reason);
    });
    session.on('joined', () => {
      this.#joined++;
      this.#updateViewers();
      this.#report('subscriber_joined', session);
      // A picture within a second: ask for a keyframe now rather than at the next periodic one.
      for (const t of publisher.tracks)
        if (t.kind === 'video') for (const rid of ['', ...t.rids]) t.requestKeyframe(rid);
    });
    this.emit('session', session);
    const answer = await this.#negotiate(session, offer);
    if (holder.grantId && !session.closed) {
      const previous = this.#byGrant.get(holder.grantId);
      this.#byGrant.set(holder.grantId, session);
      if (previous && previous !== session) {
        this.#logger.info({ sessionId: previous.id, by: session.id }, 'grant opened a new session: old one replaced');
        void previous.close('replaced');
      }
    }
    return { session, answer };
  }

  /**
   * Open a relay from the origin (once, however many viewers ask at the same moment), or give the open one. Its
   * viewers are closed when it closes, as a publisher's are.
   */
  async #edgeRelay(claim: RelayClaim): Promise<EdgeRelay> {
    if (this.#relay && !this.#relay.closed) return this.#relay;
    if (this.#relayOpening) return this.#relayOpening;
    const settings = this.o.relays;
    if (!settings) {
      throw new AppError(ErrorCode.Unavailable, 'this SFU node relays nothing (it has no INTERNAL_SECRET)');
    }
    this.#relayOpening = EdgeRelay.open(this.name, claim, settings, { metrics: this.metrics, logger: this.#logger });
    try {
      const relay = await this.#relayOpening;
      if (this.#closed) {
        relay.close('room_closed');
        throw new AppError(ErrorCode.Conflict, 'the room is closing');
      }
      this.#relay = relay;
      this.#relayOrigin = claim.node;
      relay.on('close', ({ reason }) => this.#relayClosed(relay, reason));
      relay.on('layers', () => {
        for (const sub of this.#subscribers.values()) sub.layersChanged();
      });
      relay.on('audience', () => this.#updateViewers());
      relay.setViewers(this.#joined);
      return relay;
    } catch (err) {
      this.#relayOpening = undefined;
      this.#pruneIfEmpty();
      throw err;
    } finally {
      this.#relayOpening = undefined;
    }
  }

  /** An edge with nobody left to feed (or a viewer refused right after the relay opened) lets its relay go. */
  #releaseIdleRelay(): void {
    if (this.#subscribers.size === 0 && this.#relay) this.#relay.close('no_viewers');
  }

  #relayClosed(relay: EdgeRelay, reason: string): void {
    if (this.#relay !== relay) return;
    this.#relay = undefined;
    this.#relayOrigin = undefined;
    if (!this.#publisher) {
      for (const sub of [...this.#subscribers.values()])
        void sub.close(reason === 'room_closed' ? reason : 'publisher_left');
    }
    this.#pruneIfEmpty();
  }

  /**
   * An edge asks this room's origin for a relay: one more sink on every layer of the publisher's tracks. 409
   * `no_publisher` when nobody publishes here (the edge's viewers retry, and placement follows the publisher).
   */
  async openRelay(request: RelayRequest): Promise<OriginRelay> {
    const publisher = this.#publisher;
    const settings = this.o.relays;
    if (!settings)
      throw new AppError(ErrorCode.Unavailable, 'this SFU node relays nothing (it has no INTERNAL_SECRET)');
    if (!publisher || publisher.closed || publisher.tracks.length === 0 || this.#closed) {
      throw new AppError(ErrorCode.NoPublisher, `nobody is publishing to room ${this.name}`);
    }
    const socket = await bindRelaySocket(settings.host);
    if (publisher.closed || this.#publisher !== publisher) {
      socket.close();
      throw new AppError(ErrorCode.NoPublisher, `nobody is publishing to room ${this.name}`);
    }
    const relay = new OriginRelay({
      id: randomBytes(12).toString('base64url'),
      request,
      tracks: publisher.tracks,
      socket,
      keys: new RelayKeyPair(),
      audience: () => this.audience,
      logger: this.#logger,
    });
    this.#edges.add(relay);
    relay.on('viewers', () => this.#updateViewers());
    relay.on('close', () => {
      this.#edges.delete(relay);
      this.#updateViewers();
    });
    this.#logger.info({ relayId: relay.id, edge: request.edge }, 'relay to an edge opened');
    return relay;
  }

  async #negotiate(session: MediaSession, offer: string): Promise<string> {
    try {
      return await session.answer(offer);
    } catch (err) {
      await session.close('negotiation_failed');
      if (err instanceof AppError) throw err;
      this.#logger.info({ err }, 'offer refused');
      throw new AppError(ErrorCode.InvalidSdp, `the SFU cannot answer this offer: ${(err as Error).message}`);
    }
  }

  #publisherClosed(session: PublisherSession, reason: string): void {
    if (this.#publisher === session) this.#publisher = undefined;
    this.o.metrics.publishers.dec();
    if (session.connected) this.#report('publisher_stopped', session, reason);
    // Subscribers of a gone publisher have nothing left to receive: close them, telling them why.
    for (const sub of [...this.#subscribers.values()])
      void sub.close(reason === 'room_closed' ? reason : 'publisher_left');
    this.#pruneIfEmpty();
  }

  #subscriberClosed(session: SubscriberSession, reason: string): void {
    if (this.#subscribers.delete(session.id)) this.o.viewerBudget.give();
    if (session.connected) {
      this.#joined = Math.max(0, this.#joined - 1);
      this.#updateViewers();
      this.#report('subscriber_left', session, reason);
    }
    this.#releaseIdleRelay();
    this.#pruneIfEmpty();
  }

  #updateViewers(): void {
    this.o.metrics.subscribers.set({ room: this.name }, this.#joined);
    this.#relay?.setViewers(this.#joined);
    const event = { type: 'viewers', count: this.audience } as const;
    this.#publisher?.notify(event);
    for (const s of this.#subscribers.values()) s.notify(event);
  }

  #report(type: MediaEventType, session: MediaSession, reason?: string): void {
    this.o.events.report({
      type,
      room: asRoomId(this.name),
      sessionId: session.id,
      userId: session.userId,
      subscribers: this.audience,
      ...(reason ? { reason } : {}),
    });
  }

  #pruneIfEmpty(): void {
    if (!this.empty || this.#replacing || this.#closed) return;
    this.#closed = true;
    this.o.metrics.release(this.metrics);
    this.emit('empty', this);
    this.removeAllListeners();
  }

  /** Close every session (the publisher first, so subscribers hear `reason`), then the room. */
  async close(reason: string): Promise<void> {
    const closing: Promise<void>[] = [];
    if (this.#publisher) closing.push(this.#publisher.close(reason));
    for (const s of [...this.#subscribers.values()]) closing.push(s.close(reason));
    for (const e of [...this.#edges]) e.close(reason);
    this.#relay?.close(reason);
    await Promise.all(closing);
    this.#pruneIfEmpty();
  }
}
