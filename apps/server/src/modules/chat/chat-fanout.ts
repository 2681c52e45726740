import type { ChatMessage, ChatTranslationEvent, RoomId } from '@fusionflow/protocol';
import type { RealtimeGateway } from '../realtime/realtime-gateway.js';

interface Channel {
  readonly roomId: RoomId;
  /** null: the whole room; else the readers of this language. */
  readonly language: string | null;
  messages: ChatMessage[];
  translations: ChatTranslationEvent[];
  timer: NodeJS.Timeout;
}

/**
 * Sends chat messages and translations to a room (or one language's readers) with as few frames
 * as the load allows. A quiet channel sends each event at once, as itself; within `windowMs` after
 * that, further events wait and go together as one `chat:batch` at the end of the window. Every
 * event costs each member's connection a system call, so a busy room of 1,000 members at 50
 * messages a second sends a few frames per second per member instead of a hundred.
 * `windowMs` 0 sends everything at once.
 */
export class ChatFanout {
  readonly #channels = new Map<string, Channel>();
  #closed = false;

  constructor(
    private readonly gateway: RealtimeGateway,
    private readonly windowMs: number,
  ) {}

  message(roomId: RoomId, message: ChatMessage): void {
    const ch = this.#open(roomId, null);
    if (ch) ch.messages.push(message);
    else this.gateway.emitToRoom(roomId, 'chat:message', message);
  }

  translation(roomId: RoomId, event: ChatTranslationEvent): void {
    const ch = this.#open(roomId, event.language);
    if (ch) ch.translations.push(event);
    else this.gateway.emitToRoomLanguage(roomId, event.language, 'chat:translation', event);
  }

  /**
   * Send what waits for the whole room now (before an event that must come after it, such as the
   * deletion of a message still in the batch).
   */
  flushRoom(roomId: RoomId): void {
    const ch = this.#channels.get(key(roomId, null));
    if (ch) this.#flush(ch);
  }

  /** Send everything that waits and stop the timers; afterwards events go at once, never into a new window. */
  close(): void {
    this.#closed = true;
    for (const ch of this.#channels.values()) {
      clearTimeout(ch.timer);
      this.#flush(ch);
    }
    this.#channels.clear();
  }

  /** The channel's batch to add to, or undefined to send at once (and start a window). */
  #open(roomId: RoomId, language: string | null): Channel | undefined {
    if (this.windowMs <= 0 || this.#closed) return undefined;
    const k = key(roomId, language);
    const ch = this.#channels.get(k);
    if (ch) return ch;
    const created: Channel = {
      roomId,
      language,
      messages: [],
      translations: [],
      timer: setTimeout(() => this.#tick(k), this.windowMs),
    };
    created.timer.unref();
    this.#channels.set(k, created);
    return undefined;
  }

  #tick(k: string): void {
    const ch = this.#channels.get(k);
    if (!ch || this.#closed) return;
    if (ch.messages.length === 0 && ch.translations.length === 0) {
      this.#channels.delete(k);
      return;
    }
    this.#flush(ch);
    ch.timer = setTimeout(() => this.#tick(k), this.windowMs);
    ch.timer.unref();
  }

  #flush(ch: Channel): void {
    const { messages, translations } = ch;
    if (messages.length + translations.length === 0) return;
    ch.messages = [];
    ch.translations = [];
    if (messages.length + translations.length === 1) {
      if (messages[0]) this.#emit(ch, 'chat:message', messages[0]);
      else this.#emit(ch, 'chat:translation', translations[0]!);
      return;
    }
    this.#emit(ch, 'chat:batch', { roomId: ch.roomId, messages, translations });
  }

  #emit(ch: Channel, name: 'chat:message' | 'chat:translation' | 'chat:batch', body: unknown): void {
    if (ch.language === null) this.gateway.emitToRoom(ch.roomId, name, body as never);
    else this.gateway.emitToRoomLanguage(ch.roomId, ch.language, name, body as never);
  }
}

const key = (roomId: RoomId, language: string | null) => (language === null ? roomId : `${roomId} ${language}`);
