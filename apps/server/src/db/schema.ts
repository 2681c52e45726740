import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Timestamps are written as Date (or left to the default) and read back as Date. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  display_name: string;
  role: 'viewer' | 'streamer' | 'studio' | 'moderator' | 'admin';
  language: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface RefreshTokensTable {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  expires_at: Timestamp;
  created_at: Generated<Date>;
  /** Set when this token was exchanged for its successor; presenting it again is reuse. */
  used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface RoomsTable {
  id: string;
  owner_id: string;
  kind: 'live' | 'call';
  title: string;
  status: 'created' | 'live' | 'ended';
  ticket_price: number | null;
  price_per_minute: number | null;
  viewer_count: Generated<number>;
  created_at: Generated<Date>;
  started_at: Timestamp | null;
  ended_at: Timestamp | null;
}

/** Secrets generated on first start (signing keys, token secrets) and shared by every server process. */
export interface ServerKeysTable {
  name: string;
  value: string;
  created_at: Generated<Date>;
}

/** An encoder's stream key for a live room (hashed; the key is shown once when made). */
export interface StreamKeysTable {
  room_id: string;
  key_hash: string;
  created_at: Generated<Date>;
}

export interface Database {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  rooms: RoomsTable;
  server_keys: ServerKeysTable;
  stream_keys: StreamKeysTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type RoomRow = Selectable<RoomsTable>;
