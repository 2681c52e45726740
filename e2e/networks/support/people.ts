import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS } from '../../support/chromium.js';
import { E2E_ENV } from '../../support/server-env.js';
import { inboundMedia } from '../../support/webrtc.js';
import { chromiumIn, type Person } from './lab.js';

/** The platform's URL as the people's browsers (and the runner) reach it: through the lab's uplink. */
export const platformUrl = (): string => process.env[E2E_ENV.baseUrl]!;

/**
 * Debian's Chromium started inside the person's namespace. The platform is served over plain HTTP on the
 * lab's address, which browsers do not count as a secure context (no camera, no microphone) unless told to,
 * as a deployment's HTTPS would make it.
 */
export function browserIn(person: Person): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumIn(person),
    args: [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=${platformUrl()}`],
  });
}

export interface Path {
  /** host, srflx, prflx or relay, of the nominated pair's local candidate. */
  local: string;
  remote: string;
  /** How the local relay candidate reaches coturn (udp, tcp, tls), when it is one. */
  relayProtocol: string | null;
}

/** The nominated candidate pair of the page's newest peer connection (trackPeerConnections installed). */
export async function pathOf(page: Page): Promise<Path | null> {
  return page.evaluate(async () => {
    const pc = ((window as any).__ffPeers as { pc: RTCPeerConnection }[]).at(-1)?.pc;
    if (!pc) return null;
    const stats = new Map<string, any>();
    (await pc.getStats()).forEach((s: any) => {
      stats.set(s.id, s);
    });
    const transport = [...stats.values()].find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = transport ? stats.get(transport.selectedCandidatePairId) : undefined;
    if (!pair) return null;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    return { local: local?.candidateType, remote: remote?.candidateType, relayProtocol: local?.relayProtocol ?? null };
  });
}

/**
 * Milliseconds from `since` until the page decodes new video again (5 frames more than it had, on the
 * same peer connection or on a new one), sampled every 100 ms; throws after `timeoutMs`.
 */
export async function videoBackAfter(page: Page, since: number, timeoutMs = 30_000): Promise<number> {
  const start = await inboundMedia(page);
  for (;;) {
    const now = await inboundMedia(page);
    const baseline = now.peers === start.peers ? start.framesDecoded : 0;
    if (now.framesDecoded >= baseline + 5) return Date.now() - since;
    if (Date.now() - since > timeoutMs) throw new Error(`no new video within ${timeoutMs} ms`);
    await page.waitForTimeout(100);
  }
}

/** Frames per second and freezes the page decodes over a window. */
export async function videoOver(
  page: Page,
  ms: number,
): Promise<{ fps: number; freezes: number; freezeSeconds: number }> {
  const before = await inboundMedia(page);
  await page.waitForTimeout(ms);
  const after = await inboundMedia(page);
  if (after.peers !== before.peers) throw new Error('the page started a new peer connection during the window');
  return {
    fps: ((after.framesDecoded - before.framesDecoded) * 1000) / ms,
    freezes: after.freezeCount - before.freezeCount,
    freezeSeconds: after.totalFreezesDuration - before.totalFreezesDuration,
  };
}

const figuresFile = join(dirname(fileURLToPath(import.meta.url)), '../../test-results/networks/figures.jsonl');

/** One scenario's measured figures: printed, and appended to test-results/networks/figures.jsonl. */
export function recordFigures(scenario: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ scenario, at: new Date().toISOString(), ...figures });
  console.log(`figures: ${line}`);
  mkdirSync(dirname(figuresFile), { recursive: true });
  appendFileSync(figuresFile, `${line}\n`);
}
