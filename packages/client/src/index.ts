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
export { type MediaSessionOptions, type PeerConnectionClass, WhepPlayer, WhipPublisher } from './whip-whep.js';
