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
  framesDecoded: number;
  audioPackets: number;
  /** Width of the last decoded frame (0 before the first). */
  frameWidth: number;
}

/** framesDecoded (video) and packetsReceived (audio) of the page's newest peer connection. */
export async function inboundMedia(page: Page): Promise<InboundMedia> {
  return page.evaluate(async () => {
    const peers = (window as any).__ffPeers as { pc: RTCPeerConnection }[];
    const last = peers.at(-1);
    if (!last) return { framesDecoded: 0, audioPackets: 0, frameWidth: 0 };
    const stats = await last.pc.getStats();
    let framesDecoded = 0;
    let audioPackets = 0;
    let frameWidth = 0;
    stats.forEach((s: any) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        framesDecoded += s.framesDecoded ?? 0;
        frameWidth = s.frameWidth ?? 0;
      }
      if (s.type === 'inbound-rtp' && s.kind === 'audio') audioPackets += s.packetsReceived ?? 0;
    });
    return { framesDecoded, audioPackets, frameWidth };
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
