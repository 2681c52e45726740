import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Timestamps are written as Date (or left to the default) and read back as Date. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  display_name: string;
  /** The channel's address (`/c/<handle>`), unique, lowercase. */
  handle: string;
  role: 'viewer' | 'streamer' | 'studio' | 'moderator' | 'admin';
  language: string;
  /** The studio that manages this streamer, if any. */
  studio_id: string | null;
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
  /** Set when the token was honoured once more within the grace window after its exchange (two tabs). */
  grace_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface PasswordResetsTable {
  id: string;
  user_id: string;
  /** SHA-256 of the token the link carries (the token itself is only in the email). */
  token_hash: string;
  expires_at: Timestamp;
  created_at: Generated<Date>;
  /** Set when the token reset the password: it never works again. */
  used_at: Timestamp | null;
}

export interface RoomsTable {
  id: string;
  owner_id: string;
  kind: 'live' | 'call';
  title: string;
  status: 'created' | 'live' | 'ended';
  ticket_price: number | null;
  price_per_minute: number | null;
  /** Live rooms: whether the SFU records each broadcast (a replay). */
  record: Generated<boolean>;
  viewer_count: Generated<number>;
  /** Live rooms: the most viewers at once while live. */
  peak_viewers: Generated<number>;
  /** Live rooms: the viewer count integrated over the time live (viewer·seconds), up to `viewers_at`. */
  viewer_seconds: Generated<number>;
  /** While live: when `viewer_seconds` was last brought up to date (the count is constant since). */
  viewers_at: Timestamp | null;
  created_at: Generated<Date>;
  started_at: Timestamp | null;
  ended_at: Timestamp | null;
}

/** One recorded broadcast (a replay); `files` is a JSON array of RecordingFile. */
export interface RecordingsTable {
  id: string;
  room_id: string;
  owner_id: string;
  status: 'pending' | 'recording' | 'ready' | 'failed';
  format: 'webm' | 'ivf-ogg';
  started_at: Timestamp | null;
  ended_at: Timestamp | null;
  duration_ms: Generated<number>;
  files: Generated<string>;
  title: string;
  hidden: Generated<boolean>;
  created_at: Generated<Date>;
  deleted_at: Timestamp | null;
}

/** Secrets generated on first start (signing keys, token secrets) and shared by every server process. */
export interface ServerKeysTable {
  name: string;
  value: string;
  created_at: Generated<Date>;
}

export type AccountKind =
  | 'wallet'
  | 'earnings'
  | 'studio'
  | 'payout_pending'
  | 'platform_revenue'
  | 'payment_clearing'
  | 'payouts';

export interface AccountsTable {
  id: string;
  kind: AccountKind;
  owner_id: string | null;
  balance: Generated<number>;
  created_at: Generated<Date>;
}

/** View: every account's balance (running balance, or the sum of entries for platform accounts). */
export interface AccountBalancesView {
  id: string;
  kind: AccountKind;
  owner_id: string | null;
  balance: number;
}

export interface LedgerTransactionsTable {
  id: string;
  kind: 'purchase' | 'tip' | 'ticket' | 'call_minute' | 'payout_request' | 'payout_approve' | 'payout_reject';
  idempotency_key: string;
  request_hash: string;
  actor_id: string | null;
  request_id: string | null;
  room_id: string | null;
  reason: string;
  metadata: ColumnType<Record<string, unknown>, string | undefined, never>;
  created_at: Generated<Date>;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  transaction_id: string;
  account_id: string;
  amount: number;
  created_at: Generated<Date>;
}

export interface PurchasesTable {
  id: string;
  user_id: string;
  pack_id: string;
  tokens: number;
  price_cents: number;
  currency: string;
  provider: 'dev' | 'webhook';
  status: 'pending' | 'completed' | 'failed';
  idempotency_key: string;
  request_hash: string;
  transaction_id: string | null;
  created_at: Generated<Date>;
  completed_at: Timestamp | null;
}

export interface PaymentEventsTable {
  id: string;
  type: string;
  purchase_id: string;
  payload: ColumnType<Record<string, unknown>, string, never>;
  received_at: Generated<Date>;
}

export interface EntitlementsTable {
  id: string;
  user_id: string;
  room_id: string;
  kind: 'ticket';
  price: number;
  transaction_id: string;
  created_at: Generated<Date>;
}

export interface PayoutsTable {
  id: string;
  user_id: string;
  source: 'earnings' | 'studio';
  amount: number;
  status: 'pending' | 'approved' | 'rejected';
  request_transaction_id: string;
  decision_transaction_id: string | null;
  decided_by: string | null;
  note: string | null;
  created_at: Generated<Date>;
  decided_at: Timestamp | null;
  /** Four eyes: the first of two admins who approved a payout above PAYOUT_SECOND_APPROVAL_TOKENS. */
  first_approved_by: string | null;
  first_approved_at: Timestamp | null;
}

export interface CallSessionsTable {
  id: string;
  room_id: string;
  payer_id: string;
  streamer_id: string;
  price_per_minute: number;
  started_at: Timestamp;
  paid_until: Timestamp;
  paused_at: Timestamp | null;
  minutes_charged: Generated<number>;
  tokens_charged: Generated<number>;
  ended_at: Timestamp | null;
  end_reason: string | null;
}

/** An encoder's stream key for a live room (hashed; the key is shown once when made). */
export interface StreamKeysTable {
  room_id: string;
  key_hash: string;
  created_at: Generated<Date>;
}

export interface ChatMessagesTable {
  /** bigserial (int8 reads back as a number; the protocol carries it as a decimal string). */
  id: Generated<number>;
  room_id: string;
  author_id: string;
  author_name: string;
  author_moderator: boolean;
  client_id: string;
  language: string;
  text: string;
  /** SHA-256 (base64url) of `text`: the translation cache's key. */
  text_hash: string;
  created_at: Generated<Date>;
  deleted_at: Timestamp | null;
  deleted_by: string | null;
}

export interface ChatReactionsTable {
  message_id: number;
  user_id: string;
  emoji: string;
  created_at: Generated<Date>;
}

export interface ChatRestrictionsTable {
  room_id: string;
  user_id: string;
  kind: 'mute' | 'ban';
  until: Timestamp | null;
  created_by: string;
  reason: string | null;
  created_at: Generated<Date>;
}

export interface ChatRoomSettingsTable {
  room_id: string;
  slow_mode_seconds: number;
  blocked_words: string[];
  updated_by: string | null;
  updated_at: Generated<Date>;
}

export interface ChatModerationActionsTable {
  id: Generated<number>;
  room_id: string;
  actor_id: string;
  action: string;
  target_user_id: string | null;
  message_id: number | null;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Generated<Date>;
}

/** Append-only: the database refuses UPDATE, DELETE and TRUNCATE. */
export interface AuditEventsTable {
  id: Generated<number>;
  at: Generated<Date>;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  target_type: 'user' | 'room' | 'message' | 'payout' | 'report' | 'platform';
  target_id: string | null;
  room_id: string | null;
  reason: string | null;
  request_id: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
}

/** A suspended account (removed on reinstatement); `until` null: until lifted. */
export interface SuspensionsTable {
  user_id: string;
  reason: string;
  until: Timestamp | null;
  created_by: string;
  created_at: Generated<Date>;
}

/** A channel moderator: appointed by the room's owner, moderates that room only. */
export interface RoomModeratorsTable {
  room_id: string;
  user_id: string;
  added_by: string;
  added_at: Generated<Date>;
}

export interface ReportsTable {
  id: string;
  reporter_id: string;
  target_type: 'message' | 'user' | 'broadcast';
  /** `message:<room>:<id>`, `user:<id>`, `broadcast:<room>`: one open report per reporter and key. */
  target_key: string;
  room_id: string | null;
  message_id: number | null;
  subject_user_id: string | null;
  message_text: string | null;
  reason: string;
  note: string | null;
  status: 'open' | 'claimed' | 'resolved';
  claimed_by: string | null;
  claimed_at: Timestamp | null;
  resolved_by: string | null;
  resolved_at: Timestamp | null;
  action: string | null;
  resolution: string | null;
  created_at: Generated<Date>;
}

export interface PlatformSettingsTable {
  name: string;
  value: ColumnType<unknown, string, string>;
  updated_by: string | null;
  updated_at: Generated<Date>;
}

export interface TranslationCacheTable {
  source: string;
  target: string;
  text_hash: string;
  translated: string;
  engine: string;
  created_at: Generated<Date>;
}

export interface Database {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  password_resets: PasswordResetsTable;
  rooms: RoomsTable;
  recordings: RecordingsTable;
  server_keys: ServerKeysTable;
  accounts: AccountsTable;
  account_balances: AccountBalancesView;
  ledger_transactions: LedgerTransactionsTable;
  ledger_entries: LedgerEntriesTable;
  purchases: PurchasesTable;
  payment_events: PaymentEventsTable;
  entitlements: EntitlementsTable;
  payouts: PayoutsTable;
  call_sessions: CallSessionsTable;
  stream_keys: StreamKeysTable;
  chat_messages: ChatMessagesTable;
  chat_reactions: ChatReactionsTable;
  chat_restrictions: ChatRestrictionsTable;
  chat_room_settings: ChatRoomSettingsTable;
  chat_moderation_actions: ChatModerationActionsTable;
  translation_cache: TranslationCacheTable;
  audit_events: AuditEventsTable;
  suspensions: SuspensionsTable;
  room_moderators: RoomModeratorsTable;
  reports: ReportsTable;
  platform_settings: PlatformSettingsTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type RoomRow = Selectable<RoomsTable>;
