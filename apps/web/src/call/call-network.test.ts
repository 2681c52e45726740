import type { PeerQuality, RemotePeer } from '@fusionflow/client';
import type { PeerId, PeerState } from '@fusionflow/protocol';
import { describe, expect, it } from 'vitest';
import { callNetwork } from './call-network';

const peer = (
  id: string,
  connection: RTCPeerConnectionState,
  localCandidateType: string | null,
  onSignaling = true,
): RemotePeer => ({
  state: { peerId: id as PeerId, connected: onSignaling } as PeerState,
  initiatorId: id as PeerId,
  reconcile: 'live-media',
  connection,
  quality: localCandidateType === null ? null : ({ localCandidateType } as PeerQuality),
});

describe('callNetwork', () => {
  it('says reconnecting while a peer connection restarts ICE, not while the peer itself is away', () => {
    expect(
      callNetwork([peer('a', 'connected', 'host'), peer('b', 'disconnected', 'host')], false).mediaReconnecting,
    ).toBe(true);
    expect(callNetwork([peer('a', 'failed', 'host')], false).mediaReconnecting).toBe(true);
    // The peer left signaling (its tile says it is reconnecting): nothing this side's network does.
    expect(callNetwork([peer('a', 'disconnected', 'host', false)], false).mediaReconnecting).toBe(false);
    expect(callNetwork([peer('a', 'connected', 'host')], false).mediaReconnecting).toBe(false);
  });

  it('says the network forces the relay only when every routed connection relays from this side, unasked', () => {
    expect(
      callNetwork([peer('a', 'connected', 'relay'), peer('b', 'connected', 'relay')], false).relayedByNetwork,
    ).toBe(true);
    expect(callNetwork([peer('a', 'connected', 'relay'), peer('b', 'connected', 'host')], false).relayedByNetwork).toBe(
      false,
    );
    // The user chose "Always relay": no news to them.
    expect(callNetwork([peer('a', 'connected', 'relay')], true).relayedByNetwork).toBe(false);
    // Nothing routed yet (still connecting, no stats): nothing to say.
    expect(callNetwork([peer('a', 'connecting', 'relay'), peer('b', 'connected', null)], false).relayedByNetwork).toBe(
      false,
    );
    expect(callNetwork([], false).relayedByNetwork).toBe(false);
  });
});
