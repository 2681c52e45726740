import {
  ClientErrorCode,
  EarningsResponse,
  EntitlementsResponse,
  IDEMPOTENCY_HEADER,
  LedgerResponse,
  Payout,
  type PayoutDecision,
  type PayoutRequest,
  PayoutsResponse,
  type PurchaseRequest,
  PurchaseResponse,
  StudioEarningsResponse,
  type TicketRequest,
  TicketResponse,
  type TipRequest,
  TipResponse,
  TokenPacksResponse,
  type TransactionKind,
  WalletHistoryResponse,
  WalletResponse,
} from '@fusionflow/protocol';
import type { ApiClient, RequestOptions } from './api-client.js';
import { isFusionFlowError } from './fusionflow-error.js';

/**
 * A fresh idempotency key. Uses getRandomValues, which (unlike randomUUID) also works on pages served
 * over plain HTTP on a LAN.
 */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return `ff-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export interface HistoryParams {
  kind?: TransactionKind;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

const query = (params: object) => {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') q.set(key, String(value));
  const text = q.toString();
  return text ? `?${text}` : '';
};

/**
 * The token economy's endpoints. Every operation that moves tokens carries an idempotency key and,
 * when the network fails before an answer arrives, is sent again with the same key — so a retry can
 * never charge twice. Pass your own key to retry an operation across page reloads.
 */
export class WalletClient {
  constructor(
    private readonly api: ApiClient,
    private readonly networkRetries = 2,
  ) {}

  packs(): Promise<TokenPacksResponse> {
    return this.api.request({ method: 'GET', path: '/api/wallet/packs', schema: TokenPacksResponse, auth: false });
  }

  async balance(): Promise<number> {
    return (await this.api.request({ method: 'GET', path: '/api/wallet', schema: WalletResponse, auth: true })).balance;
  }

  history(params: HistoryParams = {}): Promise<WalletHistoryResponse> {
    return this.api.request({
      method: 'GET',
      path: `/api/wallet/history${query(params)}`,
      schema: WalletHistoryResponse,
      auth: true,
    });
  }

  entitlements(): Promise<EntitlementsResponse> {
    return this.api.request({
      method: 'GET',
      path: '/api/wallet/entitlements',
      schema: EntitlementsResponse,
      auth: true,
    });
  }

  purchase(req: PurchaseRequest, key = newIdempotencyKey()): Promise<PurchaseResponse> {
    return this.#money(
      { method: 'POST', path: '/api/wallet/purchases', body: req, schema: PurchaseResponse, auth: true },
      key,
    );
  }

  tip(roomId: string, req: TipRequest, key = newIdempotencyKey()): Promise<TipResponse> {
    return this.#money(
      {
        method: 'POST',
        path: `/api/rooms/${encodeURIComponent(roomId)}/tips`,
        body: req,
        schema: TipResponse,
        auth: true,
      },
      key,
    );
  }

  buyTicket(roomId: string, req: TicketRequest, key = newIdempotencyKey()): Promise<TicketResponse> {
    return this.#money(
      {
        method: 'POST',
        path: `/api/rooms/${encodeURIComponent(roomId)}/tickets`,
        body: req,
        schema: TicketResponse,
        auth: true,
      },
      key,
    );
  }

  earnings(days = 30): Promise<EarningsResponse> {
    return this.api.request({
      method: 'GET',
      path: `/api/earnings${query({ days })}`,
      schema: EarningsResponse,
      auth: true,
    });
  }

  studioEarnings(days = 30): Promise<StudioEarningsResponse> {
    return this.api.request({
      method: 'GET',
      path: `/api/studio/earnings${query({ days })}`,
      schema: StudioEarningsResponse,
      auth: true,
    });
  }

  requestPayout(req: PayoutRequest, key = newIdempotencyKey()): Promise<Payout> {
    return this.#money({ method: 'POST', path: '/api/payouts', body: req, schema: Payout, auth: true }, key);
  }

  async myPayouts(): Promise<Payout[]> {
    return (await this.api.request({ method: 'GET', path: '/api/payouts', schema: PayoutsResponse, auth: true }))
      .payouts;
  }

  async payoutQueue(status?: Payout['status']): Promise<Payout[]> {
    return (
      await this.api.request({
        method: 'GET',
        path: `/api/admin/payouts${query({ status })}`,
        schema: PayoutsResponse,
        auth: true,
      })
    ).payouts;
  }

  decidePayout(id: string, decision: PayoutDecision): Promise<Payout> {
    return this.api.request({
      method: 'POST',
      path: `/api/admin/payouts/${encodeURIComponent(id)}/decision`,
      body: decision,
      schema: Payout,
      auth: true,
    });
  }

  ledger(
    params: { userId?: string; kind?: TransactionKind; limit?: number; cursor?: string } = {},
  ): Promise<LedgerResponse> {
    return this.api.request({
      method: 'GET',
      path: `/api/admin/ledger${query(params)}`,
      schema: LedgerResponse,
      auth: true,
    });
  }

  async #money<T>(options: RequestOptions<T>, key: string): Promise<T> {
    const request = { ...options, headers: { ...options.headers, [IDEMPOTENCY_HEADER]: key } };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.api.request(request);
      } catch (err) {
        const lostInFlight = isFusionFlowError(err, ClientErrorCode.NetworkError);
        if (!lostInFlight || attempt >= this.networkRetries) throw err;
      }
    }
  }
}
