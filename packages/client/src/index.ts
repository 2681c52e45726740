export {
  ApiClient,
  type ApiClientOptions,
  type FetchLike,
  type ListRoomsParams,
  type RequestOptions,
  type ResponseSchema,
  type Session,
  type SessionListener,
} from './api-client.js';
export { ApiError, ClientErrorCode, isApiError } from './api-error.js';
export * from './wallet-client.js';
