import { z } from 'zod';
import { RoomId, UserId } from './ids.js';
import { noNul, text } from './text.js';

/** Whole tokens. Amounts on the wire are integers; fractions of a token do not exist. */
export const Tokens = z.number().int().min(0);

/** Header every money-moving request carries; a retry with the same key never moves money twice. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const IdempotencyKey = text().regex(
  /^[A-Za-z0-9_.:-]{8,128}$/,
  'idempotency key must be 8-128 of A-Z a-z 0-9 _ . : -',
);

export const TokenPack = z.object({
  id: text(),
  tokens: z.number().int().positive(),
  /** Price in the smallest currency unit (cents). */
  priceCents: z.number().int().positive(),
  currency: text().length(3),
});
export type TokenPack = z.infer<typeof TokenPack>;

export const TokenPacksResponse = z.object({
  packs: z.array(TokenPack),
  /** Payment providers this server accepts: `dev` credits at once (demo only), `webhook` waits for the provider. */
  providers: z.array(z.enum(['dev', 'webhook'])),
  /**
   * The platform's share of every tip, ticket and call minute (PLATFORM_FEE_PERCENT), and a
   * studio's share of what its streamers earn after the fee (STUDIO_SHARE_PERCENT): shown where
   * people pay and where streamers read their earnings.
   */
  platformFeePercent: z.number().min(0).max(100),
  studioSharePercent: z.number().min(0).max(100),
});
export type TokenPacksResponse = z.infer<typeof TokenPacksResponse>;

export const PurchaseRequest = z.strictObject({
  packId: text().min(1).max(64),
  provider: z.enum(['dev', 'webhook']).optional(),
  /** The price the buyer saw; if the pack's price changed since, the purchase is refused. */
  expectedPriceCents: z.number().int().positive(),
});
export type PurchaseRequest = z.infer<typeof PurchaseRequest>;

export const PurchaseStatus = z.enum(['pending', 'completed', 'failed']);
export const Purchase = z.object({
  id: text(),
  packId: text(),
  tokens: z.number().int(),
  priceCents: z.number().int(),
  currency: text(),
  provider: z.enum(['dev', 'webhook']),
  status: PurchaseStatus,
  createdAt: text(),
  completedAt: text().nullable(),
});
export type Purchase = z.infer<typeof Purchase>;

export const PurchaseResponse = z.object({ purchase: Purchase, balance: z.number().int() });
export type PurchaseResponse = z.infer<typeof PurchaseResponse>;

export const WalletResponse = z.object({ balance: z.number().int() });
export type WalletResponse = z.infer<typeof WalletResponse>;

/** What moved money: the kind of a ledger transaction. */
export const TransactionKind = z.enum([
  'purchase',
  'tip',
  'ticket',
  'call_minute',
  'payout_request',
  'payout_approve',
  'payout_reject',
]);
export type TransactionKind = z.infer<typeof TransactionKind>;

export const WalletHistoryQuery = z.strictObject({
  kind: TransactionKind.optional(),
  from: z.iso.datetime({ offset: true }).check(noNul).optional(),
  to: z.iso.datetime({ offset: true }).check(noNul).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: text().max(100).optional(),
});
export type WalletHistoryQuery = z.infer<typeof WalletHistoryQuery>;

export const WalletHistoryItem = z.object({
  transactionId: text(),
  kind: TransactionKind,
  /** Positive: tokens in; negative: tokens out. */
  amount: z.number().int(),
  reason: text(),
  roomId: text().nullable(),
  createdAt: text(),
});
export type WalletHistoryItem = z.infer<typeof WalletHistoryItem>;

export const WalletHistoryResponse = z.object({ items: z.array(WalletHistoryItem), nextCursor: text().nullable() });
export type WalletHistoryResponse = z.infer<typeof WalletHistoryResponse>;

export const TipRequest = z.strictObject({
  amount: z.number().int().min(1, 'a tip is at least 1 token'),
  message: text().trim().max(200).optional(),
});
export type TipRequest = z.infer<typeof TipRequest>;

/** How one payment splits: every token goes somewhere, none is created or lost. */
export const RevenueSplit = z.object({ streamer: Tokens, studio: Tokens, platform: Tokens });
export type RevenueSplit = z.infer<typeof RevenueSplit>;

export const Tip = z.object({
  id: text(),
  roomId: RoomId,
  fromUserId: UserId,
  fromName: text(),
  toUserId: UserId,
  amount: z.number().int(),
  message: text().nullable(),
  createdAt: text(),
});
export type Tip = z.infer<typeof Tip>;

export const TipResponse = z.object({ tip: Tip, balance: z.number().int() });
export type TipResponse = z.infer<typeof TipResponse>;

export const TicketRequest = z.strictObject({
  /** The ticket price the buyer saw; a changed price refuses the purchase. */
  expectedPrice: z.number().int().min(0),
});
export type TicketRequest = z.infer<typeof TicketRequest>;

export const Entitlement = z.object({
  id: text(),
  roomId: RoomId,
  kind: z.enum(['ticket']),
  price: z.number().int(),
  createdAt: text(),
});
export type Entitlement = z.infer<typeof Entitlement>;

export const TicketResponse = z.object({ entitlement: Entitlement, balance: z.number().int() });
export type TicketResponse = z.infer<typeof TicketResponse>;

export const EntitlementsResponse = z.object({ entitlements: z.array(Entitlement) });
export type EntitlementsResponse = z.infer<typeof EntitlementsResponse>;

export const EarningsSource = z.enum(['tips', 'tickets', 'calls']);
export type EarningsSource = z.infer<typeof EarningsSource>;

export const EarningsQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(366).default(30),
});

export const EarningsDay = z.object({
  day: text(),
  tips: z.number().int(),
  tickets: z.number().int(),
  calls: z.number().int(),
  total: z.number().int(),
});
export type EarningsDay = z.infer<typeof EarningsDay>;

export const EarningsResponse = z.object({
  /** Tokens earned and not yet paid out or requested. */
  available: z.number().int(),
  /** Requested payouts waiting for an admin. */
  pendingPayouts: z.number().int(),
  totals: z.object({
    tips: z.number().int(),
    tickets: z.number().int(),
    calls: z.number().int(),
    total: z.number().int(),
  }),
  days: z.array(EarningsDay),
});
export type EarningsResponse = z.infer<typeof EarningsResponse>;

export const StudioEarningsResponse = z.object({
  /** The studio's own share, available for payout. */
  available: z.number().int(),
  pendingPayouts: z.number().int(),
  streamers: z.array(
    z.object({
      userId: UserId,
      displayName: text(),
      /** What the streamer kept and what the studio got from their earnings in the period. */
      streamerEarnings: z.number().int(),
      studioShare: z.number().int(),
    }),
  ),
});
export type StudioEarningsResponse = z.infer<typeof StudioEarningsResponse>;

export const PayoutStatus = z.enum(['pending', 'approved', 'rejected']);
export const Payout = z.object({
  id: text(),
  userId: UserId,
  displayName: text(),
  /** Which earnings the payout draws on. */
  source: z.enum(['earnings', 'studio']),
  amount: z.number().int(),
  status: PayoutStatus,
  note: text().nullable(),
  createdAt: text(),
  decidedAt: text().nullable(),
  decidedBy: text().nullable(),
  /** Four eyes: the admin whose approval waits for a second one (payouts above PAYOUT_SECOND_APPROVAL_TOKENS). */
  firstApprovedBy: text().nullable(),
  /** This payout needs two different admins to approve it. */
  needsSecondApproval: z.boolean(),
});
export type Payout = z.infer<typeof Payout>;

export const PayoutRequest = z.strictObject({
  amount: z.number().int().min(1),
  source: z.enum(['earnings', 'studio']).default('earnings'),
});
export type PayoutRequest = z.infer<typeof PayoutRequest>;

export const PayoutDecision = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  note: text().trim().max(500).optional(),
});
export type PayoutDecision = z.infer<typeof PayoutDecision>;

export const PayoutsQuery = z.strictObject({ status: PayoutStatus.optional() });
export const PayoutsResponse = z.object({ payouts: z.array(Payout) });
export type PayoutsResponse = z.infer<typeof PayoutsResponse>;

export const LedgerEntryView = z.object({ account: text(), amount: z.number().int() });
export const LedgerTransactionView = z.object({
  id: text(),
  kind: TransactionKind,
  reason: text(),
  actorId: text().nullable(),
  requestId: text().nullable(),
  roomId: text().nullable(),
  createdAt: text(),
  entries: z.array(LedgerEntryView),
});
export type LedgerTransactionView = z.infer<typeof LedgerTransactionView>;

export const LedgerQuery = z.strictObject({
  userId: UserId.optional(),
  kind: TransactionKind.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: text().max(100).optional(),
});
export const LedgerResponse = z.object({
  transactions: z.array(LedgerTransactionView),
  nextCursor: text().nullable(),
  /** Sum over every account: always 0 in a healthy ledger. */
  totalBalance: z.number().int(),
});
export type LedgerResponse = z.infer<typeof LedgerResponse>;

/** Payment provider webhook (`POST /api/payments/webhook`), signed `x-ff-signature: t=<unix>,v1=<hex>`. */
export const PaymentWebhookEvent = z.object({
  id: text().min(1).max(128),
  type: z.enum(['payment.succeeded', 'payment.failed']),
  data: z.object({
    purchaseId: text().min(1).max(64),
    amountCents: z.number().int().positive(),
    currency: text().length(3),
  }),
});
export type PaymentWebhookEvent = z.infer<typeof PaymentWebhookEvent>;
export const PAYMENT_SIGNATURE_HEADER = 'x-ff-signature';

/**
 * A private call's meter, sent to both sides (server → client `billing`) when it starts, pauses,
 * resumes, charges a minute, runs low and ends. Only the payer's copy carries `balance`.
 * `lowBalance` means the balance will not cover the next minute: the call ends when the paid time
 * (`secondsLeft`) runs out unless the payer tops up.
 */
export const CallBillingMessage = z.object({
  roomId: RoomId,
  sessionId: text(),
  status: z.enum(['running', 'paused', 'ended']),
  pricePerMinute: z.number().int(),
  minutesCharged: z.number().int(),
  tokensCharged: z.number().int(),
  /** Seconds of call already paid for, from now. */
  secondsLeft: z.number().int(),
  lowBalance: z.boolean(),
  balance: z.number().int().optional(),
  endReason: z.enum(['balance', 'left', 'ended']).optional(),
});
export type CallBillingMessage = z.infer<typeof CallBillingMessage>;

/** The record of a private call: every started minute charged, for both sides and admins. */
export const CallSession = z.object({
  id: text(),
  roomId: RoomId,
  payerId: UserId,
  payerName: text(),
  streamerId: UserId,
  streamerName: text(),
  pricePerMinute: z.number().int(),
  minutesCharged: z.number().int(),
  tokensCharged: z.number().int(),
  startedAt: text(),
  endedAt: text().nullable(),
  endReason: text().nullable(),
  /** The ledger transaction of each minute, in order. */
  minutes: z.array(z.object({ minute: z.number().int(), transactionId: text(), chargedAt: text() })),
});
export type CallSession = z.infer<typeof CallSession>;
export const CallSessionsResponse = z.object({ sessions: z.array(CallSession) });
export type CallSessionsResponse = z.infer<typeof CallSessionsResponse>;
