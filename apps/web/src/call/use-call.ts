import {
  CallClient,
  type CallStatus,
  ChatClient,
  FusionFlowError,
  MediaReporter,
  type RemotePeer,
  sessionResumeStore,
} from '@fusionflow/client';
import {
  type CallBillingMessage,
  ClientErrorCode,
  ErrorCode,
  type MediaState,
  type PeerId,
  type PeerState,
  type RemovedMessage,
} from '@fusionflow/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api';
import { chatLanguage } from '../chat/use-chat';
import { currentToken } from '../session/access-token';

export interface Devices {
  cameras: MediaDeviceInfo[];
  microphones: MediaDeviceInfo[];
}

export interface CallView {
  status: CallStatus | 'idle';
  self: PeerState | null;
  peers: RemotePeer[];
  streams: Map<PeerId, MediaStream>;
  /** What the user asked for, and what the server holds (what is sent). */
  desired: MediaState;
  held: MediaState;
  localStream: MediaStream | null;
  devices: Devices;
  cameraId: string;
  micId: string;
  error: FusionFlowError | null;
  /** A private call's meter (paid call rooms), as the server last sent it. */
  billing: CallBillingMessage | null;
  /** Why the server took this user out of the call, if it did. */
  removed: RemovedMessage | null;
  /** The call's chat, on the call's own connection (from joining until the call ends). */
  chat: ChatClient | null;
  /** The user asked to relay everything through TURN (so a relayed route is no news to them). */
  relayOnly: boolean;
}

const OFF: MediaState = { camera: false, mic: false, screen: false };

/**
 * The call of a room for the web app: a CallClient plus the local camera and microphone. The
 * camera and microphone are opened when switched on and stopped when switched off (the light goes
 * out); the call client sends them only once the server confirms the new media state.
 */
export function useCall(roomId: string) {
  const clientRef = useRef<CallClient | null>(null);
  /** This call session's media report to the control plane (join time, route, ICE failures, freezes). */
  const reporterRef = useRef<MediaReporter | null>(null);
  const chatRef = useRef<ChatClient | null>(null);
  const tracksRef = useRef<{ audio: MediaStreamTrack | null; video: MediaStreamTrack | null }>({
    audio: null,
    video: null,
  });
  const [view, setView] = useState<CallView>({
    status: 'idle',
    self: null,
    peers: [],
    streams: new Map(),
    desired: { camera: true, mic: true, screen: false },
    held: OFF,
    localStream: null,
    devices: { cameras: [], microphones: [] },
    cameraId: '',
    micId: '',
    error: null,
    billing: null,
    removed: null,
    chat: null,
    relayOnly: false,
  });
  const viewRef = useRef(view);
  viewRef.current = view;
  const patch = useCallback((p: Partial<CallView>) => setView((v) => ({ ...v, ...p })), []);

  const refreshDevices = useCallback(async () => {
    try {
      const all = await navigator.mediaDevices.enumerateDevices();
      patch({
        devices: {
          cameras: all.filter((d) => d.kind === 'videoinput'),
          microphones: all.filter((d) => d.kind === 'audioinput'),
        },
      });
    } catch {
      // No device list: the pickers stay empty, the defaults still work.
    }
  }, [patch]);

  const localStream = useCallback(() => {
    const tracks = [tracksRef.current.video, tracksRef.current.audio].filter((t): t is MediaStreamTrack => !!t);
    return tracks.length > 0 ? new MediaStream(tracks) : null;
  }, []);

  /** Open (or close) the camera or microphone to match `on`, with the chosen device. */
  const setDevice = useCallback(
    async (kind: 'audio' | 'video', on: boolean, deviceId?: string) => {
      const current = tracksRef.current[kind];
      if (!on) {
        current?.stop();
        tracksRef.current[kind] = null;
      } else {
        const constraint = deviceId ? { deviceId: { exact: deviceId } } : true;
        const stream = await navigator.mediaDevices.getUserMedia(
          kind === 'video' ? { video: constraint } : { audio: constraint },
        );
        const track = stream.getTracks()[0] ?? null;
        current?.stop();
        tracksRef.current[kind] = track;
      }
      clientRef.current?.setLocalTracks({ [kind]: tracksRef.current[kind] });
      patch({ localStream: localStream() });
    },
    [localStream, patch],
  );

  const join = useCallback(
    async (options: { relayOnly: boolean }) => {
      if (clientRef.current) return;
      const { desired, cameraId, micId } = viewRef.current;
      patch({ status: 'joining', error: null, relayOnly: options.relayOnly });
      // The join time runs from here (the click on Join) to the first frame decoded from anyone.
      const reporter = new MediaReporter({
        kind: 'call',
        send: (report, final) => void api.reportMedia(roomId, report, { keepalive: final }).catch(() => undefined),
      });
      reporter.start();
      reporterRef.current?.end();
      reporterRef.current = reporter;
      // A closed or reloaded tab ends the session here too (the request outlives the page).
      const onPageHide = () => reporter.end();
      window.addEventListener('pagehide', onPageHide);
      const endReport = () => {
        window.removeEventListener('pagehide', onPageHide);
        reporter.end();
        if (reporterRef.current === reporter) reporterRef.current = null;
      };
      try {
        await setDevice('video', desired.camera, cameraId || undefined);
        await setDevice('audio', desired.mic, micId || undefined);
      } catch {
        // No camera or microphone (or no permission): join without them.
        patch({ desired: { ...desired, camera: !!tracksRef.current.video, mic: !!tracksRef.current.audio } });
      }
      void refreshDevices();
      const language = chatLanguage(api.session?.user ?? null);
      const client = new CallClient({
        token: currentToken,
        iceServers: async () => (await api.getIceServers()).iceServers,
        iceTransportPolicy: options.relayOnly ? 'relay' : 'all',
        resumeStore: sessionResumeStore(),
        language,
        reporter,
      });
      clientRef.current = client;
      // The chat shares the call's connection: attached before it connects, it sees `joined` and what follows.
      client.on('connection', (connection) => {
        chatRef.current?.close();
        chatRef.current = new ChatClient({ connection, roomId, language });
        patch({ chat: chatRef.current });
      });
      const sync = () => patch({ peers: client.peers, status: client.status, held: client.media });
      client.on('status', (status) => {
        patch({ status });
        if (status === 'ended' || status === 'left' || status === 'failed') {
          endReport();
          for (const kind of ['audio', 'video'] as const) {
            tracksRef.current[kind]?.stop();
            tracksRef.current[kind] = null;
          }
          clientRef.current = null;
          chatRef.current?.close();
          chatRef.current = null;
          patch({ localStream: null, streams: new Map(), peers: [], chat: null });
        }
      });
      client.on('joined', (msg) => patch({ self: msg.self }));
      client.on('peer-joined', sync);
      client.on('peer-updated', sync);
      client.on('self-media', (held) => patch({ held }));
      client.on('peer-left', ({ peerId }) => {
        setView((v) => {
          const streams = new Map(v.streams);
          streams.delete(peerId);
          return { ...v, streams, peers: client.peers };
        });
      });
      client.on('track', ({ peerId, track }) => {
        setView((v) => {
          const streams = new Map(v.streams);
          const previous = streams.get(peerId);
          const kept = previous ? previous.getTracks().filter((t) => t.kind !== track.kind) : [];
          streams.set(peerId, new MediaStream([...kept, track]));
          return { ...v, streams };
        });
      });
      client.on('quality', sync);
      client.on('billing', (billing) => patch({ billing }));
      client.on('removed', (removed) => patch({ removed }));
      client.on('error', (e) => {
        // The chat shows its own errors beside its messages.
        if (e.event?.startsWith('chat:')) return;
        if (e.code !== ErrorCode.RateLimited) patch({ error: e });
      });
      client.setLocalTracks(tracksRef.current);
      client.setMedia({ camera: !!tracksRef.current.video, mic: !!tracksRef.current.audio, screen: false });
      patch({ desired: client.desiredMedia });
      try {
        await client.join(roomId);
      } catch (err) {
        patch({ error: FusionFlowError.from(err), status: 'failed' });
      }
    },
    [patch, refreshDevices, roomId, setDevice],
  );

  const toggle = useCallback(
    async (what: 'camera' | 'mic') => {
      const client = clientRef.current;
      const on = !viewRef.current.desired[what];
      const kind = what === 'camera' ? 'video' : 'audio';
      try {
        await setDevice(kind, on, (what === 'camera' ? viewRef.current.cameraId : viewRef.current.micId) || undefined);
      } catch {
        patch({ error: new FusionFlowError(ClientErrorCode.DeviceUnavailable, `${what} unavailable`) });
        return;
      }
      const desired = { ...viewRef.current.desired, [what]: on };
      patch({ desired });
      client?.setMedia({ [what]: on });
    },
    [patch, setDevice],
  );

  const chooseDevice = useCallback(
    async (kind: 'audio' | 'video', deviceId: string) => {
      patch(kind === 'video' ? { cameraId: deviceId } : { micId: deviceId });
      const on = kind === 'video' ? viewRef.current.desired.camera : viewRef.current.desired.mic;
      if (on && clientRef.current) await setDevice(kind, true, deviceId).catch(() => undefined);
    },
    [patch, setDevice],
  );

  const leave = useCallback(() => {
    sessionResumeStore().set(roomId, null);
    clientRef.current?.leave();
  }, [roomId]);

  // Navigating away inside the app leaves the call. A reload or a closed tab never gets here: the slot then
  // waits the grace period, so a reload resumes it (and a closed tab leaves when the grace period ends).
  useEffect(
    () => () => {
      if (clientRef.current) {
        sessionResumeStore().set(roomId, null);
        clientRef.current.leave();
      }
      chatRef.current?.close();
      chatRef.current = null;
      reporterRef.current?.end();
      for (const kind of ['audio', 'video'] as const) tracksRef.current[kind]?.stop();
    },
    [roomId],
  );

  return {
    view,
    join,
    toggle,
    chooseDevice,
    leave,
    refreshDevices,
    setDesired: (d: MediaState) => patch({ desired: d }),
  };
}

/** Whether this tab was in this room's call before a reload (it then rejoins by itself). */
export function wasInCall(roomId: string): boolean {
  return sessionResumeStore().get(roomId) !== null;
}
