export {
  ApiClient,
  type ApiClientOptions,
  type FetchLike,
  type ListRoomsParams,
  type ResponseSchema,
  type Session,
  type SessionListener,
} from './api-client.js';
export { ApiError, ClientErrorCode, isApiError } from './api-error.js';
export { WhepPlayer } from './whep-client.js';
export { WhipPublisher } from './whip-client.js';
export type { MediaSessionOptions, PeerConnectionClass } from './whip-whep-session.js';
