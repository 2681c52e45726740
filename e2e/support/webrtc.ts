import type { BrowserContext, Page } from '@playwright/test';

/**
 * Keep every RTCPeerConnection a page makes (window.__ffPeers), with when it was made and when it
 * connected, so scenarios can read getStats() the way chrome://webrtc-internals does.
 */
export async function trackPeerConnections(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const peers: { pc: RTCPeerConnection; createdAt: number; connectedAt: number | null }[] = [];
    (window as any).__ffPeers = peers;
    window.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        const entry = {
          pc: this as RTCPeerConnection,
          createdAt: performance.now(),
          connectedAt: null as number | null,
        };
        peers.push(entry);
        this.addEventListener('connectionstatechange', () => {
          if (this.connectionState === 'connected' && entry.connectedAt === null) entry.connectedAt = performance.now();
        });
      }
    } as typeof RTCPeerConnection;
  });
}

export interface InboundMedia {
  /** Peer connections the page has made so far (a new one means it started over). */
  peers: number;
  framesDecoded: number;
  audioPackets: number;
  /** Width of the last decoded frame (0 before the first). */
  frameWidth: number;
  freezeCount: number;
  totalFreezesDuration: number;
}

/** Video (summed over its inbound video streams) and audio received by the page's newest peer connection. */
export async function inboundMedia(page: Page): Promise<InboundMedia> {
  return page.evaluate(async () => {
    const peers = (window as any).__ffPeers as { pc: RTCPeerConnection }[];
    const out = {
      peers: peers.length,
      framesDecoded: 0,
      audioPackets: 0,
      frameWidth: 0,
      freezeCount: 0,
      totalFreezesDuration: 0,
    };
    const last = peers.at(-1);
    if (!last) return out;
    (await last.pc.getStats()).forEach((s: any) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out.framesDecoded += s.framesDecoded ?? 0;
        out.frameWidth = s.frameWidth ?? 0;
        out.freezeCount += s.freezeCount ?? 0;
        out.totalFreezesDuration += s.totalFreezesDuration ?? 0;
      }
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioPackets += s.packetsReceived ?? 0;
    });
    return out;
  });
}

/**
 * Watch the page's newest peer connection in the page itself (every 20 ms) until it decodes a
 * frame; returns milliseconds from its creation and from its connection to that first frame.
 */
export async function timeToFirstFrame(
  page: Page,
  timeoutMs = 20_000,
): Promise<{ fromCreate: number; fromConnect: number }> {
  return page.evaluate(async (timeout) => {
    const started = performance.now();
    for (;;) {
      const peers = (window as any).__ffPeers as {
        pc: RTCPeerConnection;
        createdAt: number;
        connectedAt: number | null;
      }[];
      const last = peers.at(-1);
      if (last) {
        const stats = await last.pc.getStats();
        let frames = 0;
        stats.forEach((s: any) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
        });
        if (frames > 0) {
          const now = performance.now();
          return { fromCreate: now - last.createdAt, fromConnect: now - (last.connectedAt ?? now) };
        }
      }
      if (performance.now() - started > timeout) throw new Error('no frame decoded');
      await new Promise((r) => setTimeout(r, 20));
    }
  }, timeoutMs);
}
