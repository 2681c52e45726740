/**
 * Wire protocol version. Bumped on any incompatible change to a message or endpoint schema.
 * Clients send it on connect (Socket.IO handshake `auth.protocol`, HTTP header `x-ff-protocol`);
 * the server refuses a different major version with `protocol_mismatch`.
 */
export const PROTOCOL_VERSION = 1 as const;
