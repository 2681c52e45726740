import type { Socket } from 'node:dgram';
import { Emitter, type Logger, logListenerErrors } from '@fusionflow/kit';
import type { RelayRequest, RelayTrack } from '@fusionflow/protocol';
import type { Layer } from '../fanout/layer.js';
import type { MediaPacket } from '../fanout/packet-cache.js';
import type { PublishedTrack, TrackSubscriber } from '../fanout/published-track.js';
import { RelayCipher, type RelayKeyPair } from './relay-cipher.js';
import { RELAY_HEARTBEAT_MS, RelayLink } from './relay-link.js';
import { decodeNack, encodeMedia, encodeState, RelayMessage } from './relay-wire.js';

export interface OriginRelayEvents extends Record<string, unknown> {
  /** The edge says how many viewers it feeds (the room's audience changed). */
  viewers: number;
  close: { relay: OriginRelay; reason: string };
}

export interface OriginRelayOptions {
  id: string;
  request: RelayRequest;
  tracks: readonly PublishedTrack[];
  socket: Socket;
  keys: RelayKeyPair;
  /** The room's whole audience (the origin's viewers and every edge's): each edge is told the rest. */
  audience: () => number;
  logger: Logger;
}

/** How a published track is described to an edge (its index is its place in the publisher's tracks). */
export function describeTrack(track: PublishedTrack, index: number): RelayTrack {
  const c = track.codec;
  return {
    index,
    kind: track.kind,
    mid: track.mid,
    codec: {
      mimeType: c.mimeType,
      clockRate: c.clockRate,
      ...(c.channels ? { channels: c.channels } : {}),
      payloadType: c.payloadType,
      ...(c.parameters ? { sdpFmtpLine: c.parameters } : {}),
      rtcpFeedback: c.rtcpFeedback.map((f) => ({ type: f.type, ...(f.parameter ? { parameter: f.parameter } : {}) })),
    },
  };
}

/**
 * The origin's end of a relay to one edge: "just another down-track" of every layer of every published track. Each
 * packet goes to the edge once, whatever the number of viewers there; the edge's NACKs are answered from the layer's
 * cache, its keyframe requests go to the publisher through the track's throttle, and it says how many it feeds.
 */
export class OriginRelay extends Emitter<OriginRelayEvents> {
  readonly link: RelayLink;
  /** Viewers the edge feeds (its last `alive`). */
  viewers = 0;
  readonly #subscribers: TrackSubscriber[] = [];
  /** Per track: each layer's index on the wire, in the order they appeared. */
  readonly #index: Map<Layer, number>[] = [];
  readonly #layers: Layer[][] = [];
  readonly #heartbeat: NodeJS.Timeout;
  #closed = false;
  #heard = false;

  constructor(private readonly o: OriginRelayOptions) {
    super(logListenerErrors(o.logger));
    const cipher = new RelayCipher(o.keys.agree(o.request.key), o.id, 'origin');
    this.link = new RelayLink({
      socket: o.socket,
      cipher,
      receive: (m, fresh) => this.#receive(m, fresh),
      closed: (reason) => this.#release(reason),
    });
    this.link.connect(o.request.host, o.request.port);
    o.tracks.forEach((track, i) => {
      this.#index.push(new Map());
      this.#layers.push([]);
      const sub: TrackSubscriber = {
        write: (layer: Layer, packet: MediaPacket) => this.#send(i, layer, packet),
        layersChanged: () => this.#sync(),
        sourceClosed: () => this.close('publisher_left'),
      };
      this.#subscribers.push(sub);
      track.attach(sub);
    });
    this.#sync();
    this.#heartbeat = setInterval(() => this.#sendState(), RELAY_HEARTBEAT_MS);
  }

  get id(): string {
    return this.o.id;
  }

  get tracks(): readonly PublishedTrack[] {
    return this.o.tracks;
  }

  get edge(): string {
    return this.o.request.edge;
  }

  get port(): number {
    return this.link.port;
  }

  /** This side's X25519 public key (the answer's `key`). */
  get publicKey(): string {
    return this.o.keys.publicKey;
  }

  /** Feed every layer of every track (layers appear as the publisher's simulcast starts). */
  #sync(): void {
    if (this.#closed) return;
    this.o.tracks.forEach((track, i) => {
      const index = this.#index[i]!;
      for (const layer of track.layers) {
        if (index.has(layer)) continue;
        index.set(layer, this.#layers[i]!.length);
        this.#layers[i]!.push(layer);
        layer.add(this.#subscribers[i]!);
      }
    });
    this.#sendState();
  }

  #sendState(): void {
    const layers: [number, number, string][] = [];
    this.#layers.forEach((list, t) => {
      list.forEach((layer, l) => {
        layers.push([t, l, layer.rid]);
      });
    });
    this.link.send(encodeState({ layers, viewers: Math.max(0, this.o.audience() - this.viewers) }));
  }

  #send(track: number, layer: Layer, packet: MediaPacket, retransmission = false): void {
    const l = this.#index[track]?.get(layer);
    if (l === undefined) return;
    const { sequenceNumber, timestamp, marker, payload } = packet;
    this.link.send(encodeMedia(track, l, sequenceNumber, timestamp, marker, retransmission, payload));
  }

  #receive(m: Buffer, fresh: boolean): void {
    const type = m[0];
    if (type === RelayMessage.alive) {
      if (!fresh || m.length < 5) return;
      // The first one says the edge is listening: what it missed while it set up goes again now.
      if (!this.#heard) {
        this.#heard = true;
        this.#sendState();
        for (const track of this.o.tracks)
          if (track.kind === 'video') for (const l of track.layers) track.requestKeyframe(l.rid);
      }
      const viewers = m.readUInt32BE(1);
      if (viewers !== this.viewers) {
        this.viewers = viewers;
        this.emit('viewers', viewers);
      }
      return;
    }
    const t = m[1] ?? -1;
    const layer = this.#layers[t]?.[m[2] ?? -1];
    if (!layer) return;
    if (type === RelayMessage.nack) {
      for (const seq of decodeNack(m)) {
        const packet = layer.cache.get(seq);
        if (packet) this.#send(t, layer, packet, true);
      }
    } else if (type === RelayMessage.pli) {
      this.o.tracks[t]!.requestKeyframe(layer.rid);
    }
  }

  close(reason: string): void {
    this.link.close(reason);
  }

  #release(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.o.tracks.forEach((track, i) => {
      track.detach(this.#subscribers[i]!);
    });
    this.o.logger.info({ relayId: this.o.id, edge: this.o.request.edge, reason }, 'relay to an edge closed');
    this.emit('close', { relay: this, reason });
    this.removeAllListeners();
  }
}
