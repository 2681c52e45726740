import { type ChatMessage, type ChatMessageId, ChatSendResult, ClientErrorCode, ErrorCode } from '@fusionflow/protocol';
import type { ChatOutgoing } from './chat-snapshot.js';
import { FusionFlowError } from './fusionflow-error.js';
import { type BackoffOptions, backoffDelay } from './reconnect-backoff.js';

/** What a chat request answered; a refusal carries the SDK's one failure shape. */
export type ChatResult<T = object> = ({ ok: true } & T) | { ok: false; error: FusionFlowError };

export type ChatSendOutcome = ChatResult<{ message: ChatMessage }>;

export interface ChatOutboxOptions {
  /** Send one attempt (`chat:send` with this client id); resolves with the server's answer or the transport's failure. */
  transmit: (send: { clientId: string; text: string }) => Promise<ChatResult>;
  /** Sends may go out now (joined, not closed). */
  canSend: () => boolean;
  /** Why nothing can be sent any more (room left, ended, failed), or null. */
  finalError: () => FusionFlowError | null;
  /** The server acknowledged a send with its stored message (before the send resolves). */
  onStored: (message: ChatMessage) => void;
  /** The pending sends changed (one added, acknowledged, failed or echoed). */
  onChange: () => void;
  /** Attempts per message before it fails (default 5). */
  maxAttempts?: number;
  /** Waits between attempts after a server-side failure or a timeout. */
  backoff?: BackoffOptions;
  /** For the backoff's jitter (tests). */
  random?: () => number;
  now?: () => Date;
}

interface PendingSend extends ChatOutgoing {
  inFlight: boolean;
  attempts: number;
  /** The stored id once `chat:message` came back before the acknowledgement. */
  storedId: ChatMessageId | undefined;
  retry: ReturnType<typeof setTimeout> | undefined;
  resolve: (result: ChatSendOutcome) => void;
}

/** Server codes after which the same message may be sent again (with the same client id). */
const RETRYABLE = new Set<string>([ErrorCode.Internal, ErrorCode.Unavailable, ErrorCode.NotJoined]);
/** The connection went away: sent again at once when joined, or after the next join. */
const DISCONNECTED = new Set<string>([ClientErrorCode.Disconnected, ClientErrorCode.NotConnected]);

/**
 * The reader's messages on their way. Each has a client id; it is sent again with the same id after a
 * reconnect or a retryable failure (with backoff), so the server stores it once; it resolves once with
 * the stored message (a duplicate acknowledgement included) or the refusal. Acknowledgements for sends
 * it no longer holds are ignored.
 */
export class ChatOutbox {
  readonly #o: ChatOutboxOptions;
  readonly #pending = new Map<string, PendingSend>();
  #closed = false;

  constructor(options: ChatOutboxOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Sends not stored yet, in the order they were made (those already echoed as stored are left out). */
  outgoing(isStored: (id: ChatMessageId) => boolean): ChatOutgoing[] {
    const out: ChatOutgoing[] = [];
    for (const p of this.#pending.values()) {
      if (p.storedId !== undefined && isStored(p.storedId)) continue;
      out.push({ clientId: p.clientId, text: p.text, sentAt: p.sentAt });
    }
    return out;
  }

  /** Queue a message and send it when possible. */
  add(clientId: string, text: string): Promise<ChatSendOutcome> {
    if (this.#closed) return Promise.resolve({ ok: false, error: closedError() });
    if (this.#pending.has(clientId)) {
      return Promise.resolve({
        ok: false,
        error: new FusionFlowError(ErrorCode.Conflict, `a message with client id ${clientId} is already on its way`),
      });
    }
    return new Promise((resolve) => {
      const p: PendingSend = {
        clientId,
        text,
        sentAt: (this.#o.now?.() ?? new Date()).toISOString(),
        inFlight: false,
        attempts: 0,
        storedId: undefined,
        retry: undefined,
        resolve,
      };
      this.#pending.set(clientId, p);
      this.#o.onChange();
      this.#attempt(p);
    });
  }

  /** Joined (again): send everything that waits. */
  flush(): void {
    for (const p of [...this.#pending.values()]) this.#attempt(p);
  }

  /**
   * A stored message came (`chat:message`, possibly before its acknowledgement). True when it is one of
   * the pending sends (by client id), which then no longer shows as being sent.
   */
  echoed(message: ChatMessage): boolean {
    const p = this.#pending.get(message.clientId);
    if (!p) return false;
    p.storedId = message.id;
    return true;
  }

  /** Fail every send not on the wire (the room is gone); those in flight resolve with their answer. */
  failWaiting(error: FusionFlowError): void {
    for (const p of [...this.#pending.values()]) if (!p.inFlight) this.#settle(p, { ok: false, error });
  }

  /** Every pending send resolves as failed (`closed`); nothing more is sent. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of [...this.#pending.values()]) this.#settle(p, { ok: false, error: closedError() });
  }

  #attempt(p: PendingSend): void {
    if (p.inFlight || this.#closed || !this.#o.canSend() || this.#pending.get(p.clientId) !== p) return;
    p.inFlight = true;
    p.attempts += 1;
    clearTimeout(p.retry);
    p.retry = undefined;
    void this.#o.transmit({ clientId: p.clientId, text: p.text }).then(
      (answer) => this.#answered(p, answer),
      (err: unknown) => this.#answered(p, { ok: false, error: FusionFlowError.from(err) }),
    );
  }

  #answered(p: PendingSend, answer: ChatResult): void {
    p.inFlight = false;
    // Settled meanwhile (closed, failed): this answer is for a send no longer held.
    if (this.#pending.get(p.clientId) !== p) return;
    if (answer.ok) {
      const parsed = ChatSendResult.safeParse(answer);
      if (!parsed.success || parsed.data.message.clientId !== p.clientId) {
        this.#settle(p, {
          ok: false,
          error: new FusionFlowError(ClientErrorCode.InvalidResponse, 'chat:send: invalid answer'),
        });
        return;
      }
      // `duplicate: true` (a retry of a message stored before) is the same success.
      this.#o.onStored(parsed.data.message);
      this.#settle(p, { ok: true, message: parsed.data.message });
      return;
    }
    const final = this.#o.finalError();
    if (final) {
      this.#settle(p, { ok: false, error: final });
      return;
    }
    const code = answer.error.code;
    if (code === ClientErrorCode.Closed) return;
    const transport = code === ClientErrorCode.Timeout || DISCONNECTED.has(code);
    if ((transport || RETRYABLE.has(code)) && p.attempts < (this.#o.maxAttempts ?? 5)) {
      // Sent again with the same client id: after the next join, or after a backoff if still joined.
      if (!this.#o.canSend()) return;
      const delay = DISCONNECTED.has(code)
        ? 0
        : backoffDelay(
            p.attempts - 1,
            { initialMs: 500, maxMs: 5000, ...this.#o.backoff },
            this.#o.random,
            retryAfterMs(answer.error),
          );
      p.retry = setTimeout(() => this.#attempt(p), delay);
      return;
    }
    this.#settle(p, { ok: false, error: answer.error });
  }

  #settle(p: PendingSend, result: ChatSendOutcome): void {
    if (this.#pending.get(p.clientId) !== p) return;
    clearTimeout(p.retry);
    this.#pending.delete(p.clientId);
    this.#o.onChange();
    p.resolve(result);
  }
}

function retryAfterMs(error: FusionFlowError): number | undefined {
  return error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : undefined;
}

function closedError(): FusionFlowError {
  return new FusionFlowError(ClientErrorCode.Closed, 'the chat is closed');
}
