export {
  ApiClient,
  type ApiClientEvents,
  type ApiClientOptions,
  type FetchLike,
  type ListRoomsParams,
  type RequestOptions,
  type ResponseSchema,
  type Session,
  type SessionListener,
} from './api-client.js';
export {
  CallClient,
  type CallClientOptions,
  type CallEvents,
  type CallStatus,
  type PeerQuality,
  type RemotePeer,
  type ResumeStore,
  sessionResumeStore,
} from './call-client.js';
export {
  ChatClient,
  type ChatClientOptions,
  type ChatConnectOptions,
  type ChatEvents,
  type ChatTransport,
  type DistributiveOmit,
} from './chat-client.js';
export { ChatOutbox, type ChatOutboxOptions, type ChatResult, type ChatSendOutcome } from './chat-outbox.js';
export { ChatRoomRules, type ChatRoomRulesOptions } from './chat-room-rules.js';
export {
  buildChatSnapshot,
  type ChatItem,
  type ChatMessageItem,
  type ChatOutgoing,
  type ChatRestriction,
  type ChatSelf,
  type ChatSnapshot,
  type ChatSnapshotInput,
  type ChatStatus,
  type ChatTimelineEntry,
  type ChatTipItem,
  type ChatTranslationView,
} from './chat-snapshot.js';
export { ChatTimeline, type ChatTimelineOptions, type ChatUpsert, compareMessageIds } from './chat-timeline.js';
export { ChatTranslations, type ChatTranslationsOptions } from './chat-translations.js';
export {
  type ConnectionQuality,
  type ConnectionQualityOptions,
  connectionQuality,
  DEFAULT_QUALITY_THRESHOLDS,
  type MediaPath,
  mediaPathOf,
  type QualityLevel,
  type QualityThresholds,
  qualityLevel,
  readStatsSample,
  type StatsReportLike,
  type StatsSample,
} from './connection-quality.js';
export { Emitter } from './emitter.js';
export {
  errorOfResponse,
  FusionFlowError,
  type FusionFlowErrorOptions,
  isFusionFlowError,
} from './fusionflow-error.js';
export { GovernanceClient } from './governance-client.js';
export {
  type MediaExpectation,
  MediaReconciler,
  type MediaSample,
  type ReconcileOptions,
  type ReconcileOutcome,
  type ReconcileState,
} from './media-reconciler.js';
export { MediaReporter, type MediaReporterOptions } from './media-reporter.js';
export { type NetworkSignals, watchNetworkChanges } from './network-watcher.js';
export { newSessionId, type PeerConnectionFactory, PeerSession } from './peer-session.js';
export { type BackoffOptions, backoffDelay } from './reconnect-backoff.js';
export {
  classifyWhepError,
  type RetryingWhepEvents,
  RetryingWhepPlayer,
  type RetryingWhepPlayerOptions,
  type RetryingWhepState,
  retriesByDefault,
  type WhepFailure,
} from './retrying-whep-player.js';
export {
  type RequestFailure,
  SignalingConnection,
  type SignalingConnectionOptions,
  type SignalingEvents,
  type SignalingStatus,
} from './signaling-connection.js';
export { isTraceparent, newTraceparent } from './trace-context.js';
export * from './wallet-client.js';
export { WhepPlayer } from './whep-client.js';
export { WhipPublisher } from './whip-client.js';
export type {
  IceRestartEvent,
  MediaSessionEvents,
  MediaSessionOptions,
  PeerConnectionClass,
} from './whip-whep-session.js';
