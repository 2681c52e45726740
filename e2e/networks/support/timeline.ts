import type { BrowserContext, Page } from '@playwright/test';

/**
 * What a page saw of the network, with wall-clock times (the runner's clock: one machine): `online` and
 * `offline`, peer connections' ICE and connection states, and its WebSockets opening and closing (the
 * signaling connection). Scenarios print it beside their figures, so a slow recovery shows where it waited.
 */
export async function recordTimeline(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const events: { at: number; what: string }[] = [];
    (window as any).__ffTimeline = events;
    const note = (what: string) => events.push({ at: Date.now(), what });
    window.addEventListener('online', () => note('online'));
    window.addEventListener('offline', () => note('offline'));
    const Native = window.RTCPeerConnection;
    let made = 0;
    window.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        const n = ++made;
        note(`pc${n} created`);
        // Video in and out every 500 ms: packets, frames, keyframes (is it the network, or a missing keyframe?).
        const sampler = setInterval(async () => {
          if (this.connectionState === 'closed') return clearInterval(sampler);
          const v = { inPackets: 0, inFrames: 0, inKeyframes: 0, outFrames: 0, outKeyframes: 0, outPackets: 0 };
          (await this.getStats()).forEach((r: any) => {
            if (r.kind !== 'video') return;
            if (r.type === 'inbound-rtp') {
              v.inPackets += r.packetsReceived ?? 0;
              v.inFrames += r.framesDecoded ?? 0;
              v.inKeyframes += r.keyFramesDecoded ?? 0;
            } else if (r.type === 'outbound-rtp') {
              v.outPackets += r.packetsSent ?? 0;
              v.outFrames += r.framesEncoded ?? 0;
              v.outKeyframes += r.keyFramesEncoded ?? 0;
            }
          });
          note(
            `pc${n} video in ${v.inPackets} pkts ${v.inFrames} frames ${v.inKeyframes} key; out ${v.outPackets} pkts ${v.outFrames} frames ${v.outKeyframes} key`,
          );
        }, 500);
        this.addEventListener('iceconnectionstatechange', () => note(`pc${n} ice ${this.iceConnectionState}`));
        this.addEventListener('signalingstatechange', () => note(`pc${n} signaling ${this.signalingState}`));
      }
    } as typeof RTCPeerConnection;
    const nativeFetch = window.fetch.bind(window);
    window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
      const method = init?.method ?? 'GET';
      const path = new URL(typeof input === 'string' || input instanceof URL ? input : input.url, location.href)
        .pathname;
      const what = `${method} ${path.replace(/[A-Za-z0-9_-]{16,}/g, '…')}`;
      note(`${what} sent`);
      return nativeFetch(input, init).then(
        (r) => {
          note(`${what} ${r.status}`);
          return r;
        },
        (err: unknown) => {
          note(`${what} failed: ${(err as Error).message}`);
          throw err;
        },
      );
    };
    const open = XMLHttpRequest.prototype.open;
    XMLHttpRequest.prototype.open = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: any[]) {
      if (String(url).includes('/socket.io/')) {
        const what = `signaling ${method}`;
        this.addEventListener('loadend', () => note(`${what} ${this.status || 'failed'}`));
      }
      return (open as any).call(this, method, url, ...rest);
    } as typeof XMLHttpRequest.prototype.open;
    for (const method of ['createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription'] as const) {
      const native = Native.prototype[method] as (...args: unknown[]) => Promise<unknown>;
      (Native.prototype as any)[method] = function (this: RTCPeerConnection, ...args: unknown[]) {
        const type = (args[0] as { type?: string } | undefined)?.type;
        note(`${method}${type ? ` ${type}` : ''} called`);
        return native.apply(this, args);
      };
    }
    const NativeSocket = window.WebSocket;
    window.WebSocket = class extends NativeSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        this.addEventListener('open', () => note('websocket open'));
        this.addEventListener('close', () => note('websocket closed'));
      }
    } as typeof WebSocket;
  });
}

/** The page's timeline from `since` on, as "+ms what" lines. */
export async function timelineOf(page: Page, since: number): Promise<string[]> {
  const events = (await page.evaluate(() => (window as any).__ffTimeline ?? [])) as { at: number; what: string }[];
  return events
    .filter((e) => e.at >= since - 5000)
    .map((e) => `${e.at - since >= 0 ? '+' : ''}${e.at - since} ${e.what}`);
}
