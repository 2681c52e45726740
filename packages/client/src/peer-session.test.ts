import type { CandidatePayload, SdpPayload, SignalKind } from '@fusionflow/protocol';
import { describe, expect, it } from 'vitest';
import { PeerSession } from './peer-session.js';

/** Just enough of an RTCPeerConnection for the offer/answer bookkeeping: it records what it is told. */
class FakePeerConnection {
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  readonly calls: string[] = [];
  #offers = 0;
  createAnswer = async (): Promise<RTCSessionDescriptionInit> => ({ type: 'answer', sdp: 'answer' });
  onicecandidate: unknown = null;
  ontrack: unknown = null;
  onconnectionstatechange: unknown = null;
  addTransceiver() {
    return { sender: { track: null, replaceTrack: async () => {} }, receiver: { track: null } };
  }
  getTransceivers() {
    return [];
  }
  async createOffer(o: RTCOfferOptions = {}) {
    this.#offers += 1;
    return { type: 'offer' as const, sdp: `offer-${this.#offers}${o.iceRestart ? '-restart' : ''}` };
  }
  async setLocalDescription(d: RTCSessionDescriptionInit) {
    this.calls.push(`local:${d.type}`);
    if (d.type === 'rollback') {
      if (this.signalingState !== 'have-local-offer') throw new Error('InvalidStateError');
      this.signalingState = 'stable';
      return;
    }
    this.localDescription = d;
    this.signalingState = 'have-local-offer';
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.calls.push(`remote:${d.type}:${d.sdp}`);
    this.remoteDescription = d;
    this.signalingState = 'stable';
  }
  close() {
    this.signalingState = 'closed';
  }
}

const initiator = (freshOfferMs = 0) => {
  const pc = new FakePeerConnection();
  const sent: { kind: SignalKind; payload: SdpPayload | CandidatePayload }[] = [];
  const session = new PeerSession({
    peerId: 'p2' as never,
    initiator: true,
    session: 's1',
    createPeerConnection: () => pc as unknown as RTCPeerConnection,
    config: {},
    send: (kind, payload) => sent.push({ kind, payload }),
    onTrack: () => {},
    onConnectionState: () => {},
    freshOfferMs,
  });
  const offers = () => sent.filter((s) => s.kind === 'offer').map((s) => s.payload as SdpPayload);
  return { pc, session, offers };
};

describe('PeerSession (initiator)', () => {
  it('a renegotiate while the offer is unanswered rolls it back and offers again, restarting ICE', async () => {
    const { pc, session, offers } = initiator();
    await session.start();
    expect(pc.signalingState).toBe('have-local-offer');
    // The answer never comes (the offer went to a dead connection); the peer asks for an ICE restart.
    await session.renegotiate(true);
    expect(pc.calls).toEqual(['local:offer', 'local:rollback', 'local:offer']);
    expect(offers()).toEqual([
      { sdp: 'offer-1', session: 's1', revision: 1 },
      { sdp: 'offer-2-restart', session: 's1', revision: 2, restartIce: true },
    ]);
    expect(pc.signalingState).toBe('have-local-offer');
  });

  it('every repeated request gets an offer, and none is left waiting for an answer', async () => {
    const { session, offers } = initiator();
    await session.start();
    for (let i = 0; i < 3; i++) await session.renegotiate(true);
    expect(offers().map((o) => o.revision)).toEqual([1, 2, 3, 4]);
  });

  it('the same request again while the restart offer is fresh shares that offer; unanswered, it is made again', async () => {
    const { pc, session, offers } = initiator(200);
    await session.start();
    // The first offer is not a restart: a restart request takes it back at once.
    await session.renegotiate(true);
    // One network change, several triggers on the peer's side: no rollback for each.
    await session.renegotiate(true);
    await session.renegotiate(false);
    expect(offers().map((o) => o.revision)).toEqual([1, 2]);
    // No answer by the time it is 200 ms old: the offer went nowhere, so it is taken back and made again.
    for (let i = 0; i < 100 && offers().length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(offers().at(-1)).toMatchObject({ revision: 3, restartIce: true });
    expect(pc.calls.filter((c) => c === 'local:rollback')).toHaveLength(2);
    // Answered in time, nothing more happens.
    await session.handleAnswer({ sdp: 'answer-3', session: 's1', revision: 3 });
    await session.renegotiate(true);
    await session.handleAnswer({ sdp: 'answer-4', session: 's1', revision: 4 });
    await new Promise((r) => setTimeout(r, 300));
    expect(offers().map((o) => o.revision)).toEqual([1, 2, 3, 4]);
    session.close();
  });

  it('the late answer to a rolled-back offer is ignored; the answer to the current one is applied', async () => {
    const { pc, session } = initiator();
    await session.start();
    await session.renegotiate(true);
    await session.handleAnswer({ sdp: 'answer-1', session: 's1', revision: 1 });
    expect(pc.signalingState).toBe('have-local-offer');
    await session.handleAnswer({ sdp: 'answer-2', session: 's1', revision: 2 });
    expect(pc.signalingState).toBe('stable');
    expect(pc.calls.filter((c) => c.startsWith('remote:'))).toEqual(['remote:answer:answer-2']);
  });

  it('an answer without a revision (an older client) is applied', async () => {
    const { pc, session } = initiator();
    await session.start();
    await session.handleAnswer({ sdp: 'answer', session: 's1' });
    expect(pc.signalingState).toBe('stable');
  });

  it('with the offer answered, a renegotiate offers at once without a rollback', async () => {
    const { pc, session, offers } = initiator();
    await session.start();
    await session.handleAnswer({ sdp: 'answer-1', session: 's1', revision: 1 });
    await session.renegotiate(false);
    expect(pc.calls).toEqual(['local:offer', 'remote:answer:answer-1', 'local:offer']);
    expect(offers().at(-1)).toEqual({ sdp: 'offer-2', session: 's1', revision: 2 });
  });
});

describe('PeerSession (responder)', () => {
  it('its answer names the offer it answers', async () => {
    const pc = new FakePeerConnection();
    const sent: { kind: SignalKind; payload: unknown }[] = [];
    const session = new PeerSession({
      peerId: 'p1' as never,
      initiator: false,
      session: 's1',
      createPeerConnection: () => pc as unknown as RTCPeerConnection,
      config: {},
      send: (kind, payload) => sent.push({ kind, payload }),
      onTrack: () => {},
      onConnectionState: () => {},
    });
    pc.setLocalDescription = async (d) => {
      pc.localDescription = d;
      pc.signalingState = 'stable';
    };
    await session.handleOffer({ sdp: 'offer', session: 's1', revision: 7 });
    expect(sent).toEqual([{ kind: 'answer', payload: { sdp: 'answer', session: 's1', revision: 7 } }]);
  });
});
