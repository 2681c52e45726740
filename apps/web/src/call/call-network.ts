import type { RemotePeer } from '@fusionflow/client';

/** What the call page tells the user about the network, from the call client's view of its peers. */
export interface CallNetwork {
  /** A peer connection is restarting ICE: it went `disconnected` or `failed` while the peer is still on signaling. */
  mediaReconnecting: boolean;
  /**
   * Every connected peer's media goes through TURN from this side (the selected pair's local candidate is a relay)
   * although the user did not ask to relay everything: this side's network allows nothing else.
   */
  relayedByNetwork: boolean;
}

export function callNetwork(peers: readonly RemotePeer[], relayOnlyChosen: boolean): CallNetwork {
  const mediaReconnecting = peers.some(
    (p) => p.state.connected && (p.connection === 'disconnected' || p.connection === 'failed'),
  );
  const routed = peers.filter((p) => p.connection === 'connected' && p.quality?.localCandidateType);
  const relayedByNetwork =
    !relayOnlyChosen && routed.length > 0 && routed.every((p) => p.quality?.localCandidateType === 'relay');
  return { mediaReconnecting, relayedByNetwork };
}
