import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  type RTCRtpHeaderExtensionParameters,
  useAbsSendTime,
  useFIR,
  useH264,
  useNACK,
  useOPUS,
  usePLI,
  useREMB,
  useRepairedRtpStreamId,
  useSdesMid,
  useSdesRTPStreamId,
  useVP8,
  useVP9,
} from 'werift';

export interface PeerNetworkOptions {
  /** Extra host-candidate addresses (127.0.0.1 for same-machine tests). */
  iceAddresses: readonly string[];
  /** Only those addresses, not every interface's. */
  iceOnlyAddresses: boolean;
  icePortRange: readonly [number, number] | undefined;
}

const videoFeedback = () => [useNACK(), usePLI(), useFIR(), useREMB()];

/** Codecs a publisher may send: VP8, VP9, H.264 (constrained baseline and baseline) and Opus. */
export function publisherCodecs(): { audio: RTCRtpCodecParameters[]; video: RTCRtpCodecParameters[] } {
  return {
    audio: [useOPUS({ parameters: 'minptime=10;useinbandfec=1' })],
    video: [
      useVP8({ rtcpFeedback: videoFeedback() }),
      rtx(),
      useVP9({ rtcpFeedback: videoFeedback() }),
      rtx(),
      useH264({
        rtcpFeedback: videoFeedback(),
        parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
      }),
      rtx(),
      useH264({
        rtcpFeedback: videoFeedback(),
        parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
      }),
      rtx(),
    ],
  };
}

const rtx = () => new RTCRtpCodecParameters({ mimeType: 'video/rtx', clockRate: 90000 });

/** The subscriber gets exactly the publisher's codec (no transcoding), with RTX for video. */
export function subscriberCodecs(publisherCodec: RTCRtpCodecParameters): RTCRtpCodecParameters[] {
  const { mimeType, clockRate, channels, parameters } = publisherCodec;
  const video = mimeType.toLowerCase().startsWith('video/');
  const codec = new RTCRtpCodecParameters({
    mimeType,
    clockRate,
    ...(channels !== undefined ? { channels } : {}),
    ...(parameters !== undefined ? { parameters } : {}),
    rtcpFeedback: video ? videoFeedback() : [],
  });
  return video ? [codec, rtx()] : [codec];
}

/**
 * werift numbers extensions in list order across audio and video; sharing one object per URI gives
 * every bundled m-line the same id for it.
 */
function publisherExtensions(): { audio: RTCRtpHeaderExtensionParameters[]; video: RTCRtpHeaderExtensionParameters[] } {
  const mid = useSdesMid();
  const abs = useAbsSendTime();
  // No transport-cc: the publisher then follows the SFU's REMB (see PublisherSession).
  return {
    audio: [mid, abs],
    video: [mid, abs, useSdesRTPStreamId(), useRepairedRtpStreamId()],
  };
}

function subscriberExtensions(): {
  audio: RTCRtpHeaderExtensionParameters[];
  video: RTCRtpHeaderExtensionParameters[];
} {
  const mid = useSdesMid();
  const abs = useAbsSendTime();
  return { audio: [mid, abs], video: [mid, abs] };
}

const LOOPBACK = /^(127\.|::1$)/;

function network(o: PeerNetworkOptions) {
  const allowed = new Set(o.iceAddresses);
  return {
    iceServers: [],
    // Only those addresses: never check a pair towards anything else (tests stay on loopback).
    ...(o.iceOnlyAddresses
      ? {
          iceFilterCandidatePair: (pair: { remoteCandidate: { host: string } }) =>
            allowed.has(pair.remoteCandidate.host) || LOOPBACK.test(pair.remoteCandidate.host),
        }
      : {}),
    ...(o.iceAddresses.length > 0 ? { iceAdditionalHostAddresses: [...o.iceAddresses] } : {}),
    ...(o.iceOnlyAddresses ? { iceUseIpv4: false, iceUseIpv6: false } : {}),
    ...(o.icePortRange ? { icePortRange: [o.icePortRange[0], o.icePortRange[1]] as [number, number] } : {}),
  };
}

export function createPublisherPeer(o: PeerNetworkOptions): RTCPeerConnection {
  return new RTCPeerConnection({ ...network(o), codecs: publisherCodecs(), headerExtensions: publisherExtensions() });
}

export function createSubscriberPeer(
  o: PeerNetworkOptions,
  codecs: { audio?: RTCRtpCodecParameters | undefined; video?: RTCRtpCodecParameters | undefined },
): RTCPeerConnection {
  // A kind the publisher does not send still gets a codec, so werift 0.24 can answer the viewer's m-line for it
  // (as inactive: SubscriberSession sends nothing there); with no codec at all it refuses the whole offer.
  const publisher = publisherCodecs();
  return new RTCPeerConnection({
    ...network(o),
    codecs: {
      audio: subscriberCodecs(codecs.audio ?? publisher.audio[0]!),
      video: codecs.video ? subscriberCodecs(codecs.video) : publisher.video.filter((c) => !/rtx/i.test(c.mimeType)),
    },
    headerExtensions: subscriberExtensions(),
  });
}

/** Resolve once the peer has gathered its candidates (the answer then carries them all). */
export function gathered(pc: RTCPeerConnection, timeoutMs = 5000): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const sub = pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') done();
    });
    function done() {
      clearTimeout(timer);
      sub.unSubscribe();
      resolve();
    }
  });
}
