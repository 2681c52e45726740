import { Counter, Histogram, LATENCY_BUCKETS, type Registry } from '@fusionflow/kit';

export type WalletMetrics = ReturnType<typeof createWalletMetrics>;

export function createWalletMetrics(registry: Registry) {
  const registers = [registry];
  return {
    purchases: new Counter({
      name: 'wallet_purchases_total',
      help: 'Token purchases by provider and outcome',
      labelNames: ['provider', 'status'] as const,
      registers,
    }),
    purchasedTokens: new Counter({
      name: 'wallet_purchased_tokens_total',
      help: 'Tokens credited by purchases',
      registers,
    }),
    tips: new Counter({ name: 'wallet_tips_total', help: 'Tips sent', registers }),
    tipTokens: new Counter({ name: 'wallet_tip_tokens_total', help: 'Tokens tipped', registers }),
    tokensSpent: new Counter({
      name: 'wallet_tokens_spent_total',
      help: 'Tokens viewers spent, by kind: tip, ticket, call_minute',
      labelNames: ['kind'] as const,
      registers,
    }),
    tickets: new Counter({ name: 'wallet_tickets_total', help: 'Tickets bought for paid live rooms', registers }),
    callMinutes: new Counter({
      name: 'wallet_call_minutes_billed_total',
      help: 'Private-call minutes charged',
      registers,
    }),
    payouts: new Counter({
      name: 'wallet_payouts_total',
      help: 'Payout requests and decisions',
      labelNames: ['status'] as const,
      registers,
    }),
    rejections: new Counter({
      name: 'wallet_rejections_total',
      help: 'Money operations refused, by operation and reason (error code)',
      labelNames: ['operation', 'reason'] as const,
      registers,
    }),
    ledgerLatency: new Histogram({
      name: 'ledger_transaction_duration_seconds',
      help: 'Time of one ledger database transaction, by kind and outcome',
      labelNames: ['kind', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
  };
}
