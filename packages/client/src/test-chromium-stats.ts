/**
 * `getStats()` reports as Chromium 14x gives them, for tests: captured from a receiving RTCPeerConnection on loopback
 * (fake camera and microphone; the entries the quality code does not read left out), with the counters, the round
 * trip and the selected pair's candidate types as parameters.
 */
export interface ChromiumReportParams {
  timestamp: number;
  framesDecoded: number;
  videoPacketsReceived: number;
  videoPacketsLost?: number;
  audioPacketsReceived: number;
  audioPacketsLost?: number;
  /** The selected pair's currentRoundTripTime, seconds (absent: the pair has none yet). */
  currentRoundTripTime?: number;
  localCandidateType?: 'host' | 'srflx' | 'prflx' | 'relay';
  remoteCandidateType?: 'host' | 'srflx' | 'prflx' | 'relay';
  /** Include the transport entry that names the selected pair (Chromium does; default true). */
  withTransport?: boolean;
  /** A remote-inbound-rtp entry with this roundTripTime, seconds (a sending peer connection has them). */
  remoteInboundRoundTripTime?: number;
}

/** A report shaped like Chromium's (a Map of id → entry, as RTCStatsReport is). */
export function chromiumReport(p: ChromiumReportParams): Map<string, Record<string, unknown>> {
  const ts = p.timestamp;
  const local = p.localCandidateType ?? 'host';
  const remote = p.remoteCandidateType ?? 'host';
  const entries: Record<string, unknown>[] = [
    // A pair nominated earlier (Chromium keeps it nominated after switching): not the selected one.
    {
      id: 'CPy3KF4Gwq_sgw5vjPa',
      timestamp: ts,
      type: 'candidate-pair',
      bytesReceived: 9746,
      bytesSent: 2050,
      currentRoundTripTime: 0.001,
      localCandidateId: 'Iy3KF4Gwq',
      nominated: true,
      packetsReceived: 21,
      packetsSent: 6,
      priority: 9114193830700924000,
      remoteCandidateId: 'Isgw5vjPa',
      state: 'succeeded',
      totalRoundTripTime: 0.019,
      transportId: 'T01',
      writable: true,
    },
    {
      id: 'CPEChbU1/l_QRFdRh2m',
      timestamp: ts,
      type: 'candidate-pair',
      availableOutgoingBitrate: 300000,
      bytesReceived: 264848,
      bytesSent: 3030,
      consentRequestsSent: 4,
      ...(p.currentRoundTripTime !== undefined ? { currentRoundTripTime: p.currentRoundTripTime } : {}),
      localCandidateId: 'IEChbU1/l',
      nominated: true,
      packetsReceived: 460,
      packetsSent: 65,
      priority: 9114497295910069000,
      remoteCandidateId: 'IQRFdRh2m',
      requestsReceived: 5,
      requestsSent: 5,
      responsesReceived: 5,
      responsesSent: 5,
      state: 'succeeded',
      totalRoundTripTime: 0.016,
      transportId: 'T01',
      writable: true,
    },
    {
      id: 'CPJt2Gi59W_fi/dLHN5',
      timestamp: ts,
      type: 'candidate-pair',
      bytesReceived: 0,
      localCandidateId: 'IJt2Gi59W',
      nominated: false,
      remoteCandidateId: 'Ifi/dLHN5',
      state: 'waiting',
      transportId: 'T01',
      writable: false,
    },
    {
      id: 'IEChbU1/l',
      timestamp: ts,
      type: 'local-candidate',
      address: local === 'relay' ? '198.51.100.7' : 'fd00::2',
      candidateType: local,
      foundation: '2876822413',
      isRemote: false,
      networkType: 'ethernet',
      port: 53745,
      priority: 2122134271,
      protocol: 'udp',
      ...(local === 'relay' ? { relayProtocol: 'tcp', url: 'turn:turn.example.com:3478?transport=tcp' } : {}),
      transportId: 'T01',
      usernameFragment: 'JXrK',
    },
    {
      id: 'IQRFdRh2m',
      timestamp: ts,
      type: 'remote-candidate',
      address: 'fd00::2',
      candidateType: remote,
      foundation: '2890508818',
      isRemote: true,
      port: 58667,
      priority: 2122134271,
      protocol: 'udp',
      transportId: 'T01',
      usernameFragment: '/AIP',
    },
    {
      id: 'Iy3KF4Gwq',
      timestamp: ts,
      type: 'local-candidate',
      address: '127.0.0.1',
      candidateType: 'host',
      isRemote: false,
      port: 48215,
      protocol: 'udp',
      transportId: 'T01',
    },
    {
      id: 'Isgw5vjPa',
      timestamp: ts,
      type: 'remote-candidate',
      address: '192.0.2.2',
      candidateType: 'host',
      isRemote: true,
      port: 44227,
      protocol: 'udp',
      transportId: 'T01',
    },
    {
      id: 'IT01A3529416191',
      timestamp: ts,
      type: 'inbound-rtp',
      codecId: 'CIT01_111_minptime=10;useinbandfec=1',
      kind: 'audio',
      mediaType: 'audio',
      ssrc: 3529416191,
      transportId: 'T01',
      jitter: 0.002,
      packetsLost: p.audioPacketsLost ?? 0,
      packetsReceived: p.audioPacketsReceived,
      bytesReceived: p.audioPacketsReceived * 48,
      concealedSamples: 0,
      concealmentEvents: 0,
      mid: '0',
      remoteId: 'ROA3529416191',
    },
    {
      id: 'IT01V361228540',
      timestamp: ts,
      type: 'inbound-rtp',
      codecId: 'CIT01_96',
      kind: 'video',
      mediaType: 'video',
      ssrc: 361228540,
      transportId: 'T01',
      jitter: 0.001,
      packetsLost: p.videoPacketsLost ?? 0,
      packetsReceived: p.videoPacketsReceived,
      bytesReceived: p.videoPacketsReceived * 870,
      decoderImplementation: 'libvpx',
      frameHeight: 480,
      frameWidth: 640,
      framesDecoded: p.framesDecoded,
      framesDropped: 0,
      framesPerSecond: 20,
      framesReceived: p.framesDecoded,
      freezeCount: 0,
      keyFramesDecoded: 1,
      mid: '1',
      remoteId: 'ROV361228540',
      totalFreezesDuration: 0,
    },
  ];
  if (p.remoteInboundRoundTripTime !== undefined) {
    entries.push({
      id: 'RIV2795124470',
      timestamp: ts,
      type: 'remote-inbound-rtp',
      kind: 'video',
      ssrc: 2795124470,
      transportId: 'T01',
      packetsLost: 0,
      roundTripTime: p.remoteInboundRoundTripTime,
      roundTripTimeMeasurements: 4,
      totalRoundTripTime: p.remoteInboundRoundTripTime * 4,
      localId: 'OT01V2795124470',
    });
  }
  if (p.withTransport !== false) {
    entries.push({
      id: 'T01',
      timestamp: ts,
      type: 'transport',
      bytesReceived: 274594,
      bytesSent: 5080,
      dtlsCipher: 'TLS_AES_128_GCM_SHA256',
      dtlsRole: 'client',
      dtlsState: 'connected',
      iceLocalUsernameFragment: 'JXrK',
      iceRole: 'controlled',
      iceState: 'connected',
      packetsReceived: 481,
      packetsSent: 71,
      selectedCandidatePairChanges: 2,
      selectedCandidatePairId: 'CPEChbU1/l_QRFdRh2m',
      srtpCipher: 'SRTP_AES128_CM_HMAC_SHA1_80',
      tlsVersion: 'FEFC',
    });
  }
  return new Map(entries.map((e) => [String(e.id), e]));
}
