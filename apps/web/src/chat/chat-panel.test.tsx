import { ChatClient, type ChatTransport } from '@fusionflow/client';
import type { ChatMessage } from '@fusionflow/protocol';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import { ChatPanel } from './chat-panel';

const ROOM = 'room-1';
const me = { userId: 'u-me', displayName: 'Lucía' };

/** A connection stand-in: the test fires server messages and answers requests. */
class FakeTransport {
  status = 'connected' as const;
  readonly #listeners = new Map<string, Set<(v: unknown) => void>>();
  readonly sent: { name: string; body: Record<string, unknown> }[] = [];
  answer: (name: string, body: Record<string, unknown>) => unknown = (name) =>
    name === 'chat:history' ? { ok: true, messages: [], hasMore: false } : { ok: true };

  on(event: string, listener: (v: unknown) => void) {
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  async request(name: string, body: Record<string, unknown>) {
    this.sent.push({ name, body });
    return this.answer(name, body);
  }

  fire(event: string, value: unknown) {
    for (const l of [...(this.#listeners.get(event) ?? [])]) l(value);
  }
}

const self = {
  peerId: 'p1',
  ...me,
  role: 'participant',
  guest: false,
  media: { camera: false, mic: false, screen: false },
  connected: true,
  joinedAt: '2026-01-01T00:00:00.000Z',
};

function message(id: number, over: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: String(id),
    roomId: ROOM,
    clientId: `c${id}`,
    author: { userId: 'u-sam', displayName: 'Sam', moderator: false },
    language: 'en',
    text: `hello ${id}`,
    sentAt: new Date(Date.UTC(2026, 0, 1, 0, 0, id)).toISOString(),
    reactions: [],
    ...over,
  } as ChatMessage;
}

async function openChat() {
  const transport = new FakeTransport();
  const client = new ChatClient({ connection: transport as unknown as ChatTransport, roomId: ROOM, language: 'en' });
  render(
    <MemoryRouter>
      <ChatPanel client={client} signedIn />
    </MemoryRouter>,
  );
  act(() => {
    transport.fire('joined', {
      self,
      roomState: { roomId: ROOM, kind: 'live', status: 'live', capacity: null, peers: [self] },
      links: [],
      resumed: false,
      resumeToken: 'p1.secret',
      graceSeconds: 30,
    });
    transport.fire('chat:state', {
      roomId: ROOM,
      language: 'en',
      engine: 'none',
      translationAvailable: false,
      canModerate: false,
      canSend: true,
      slowModeSeconds: 0,
      maxLength: 500,
    });
  });
  await waitFor(() => expect(screen.getByTestId('chat').dataset.status).toBe('ready'));
  return { transport, client };
}

describe('ChatPanel', () => {
  it('shows messages as they come, a whole batch at once', async () => {
    const { transport, client } = await openChat();
    act(() => transport.fire('chat:message', message(1)));
    expect(screen.getAllByTestId('chat-text').map((e) => e.textContent)).toEqual(['hello 1']);
    act(() => transport.fire('chat:batch', { roomId: ROOM, messages: [message(2), message(3)], translations: [] }));
    expect(screen.getAllByTestId('chat-text').map((e) => e.textContent)).toEqual(['hello 1', 'hello 2', 'hello 3']);
    client.close();
  });

  it('sends what is typed, and shows a refusal as a sentence with its code, giving the words back', async () => {
    const { transport, client } = await openChat();
    transport.answer = (name) =>
      name === 'chat:send'
        ? { ok: false, error: { code: 'message_blocked', message: 'the message contains a blocked word: "darn"' } }
        : { ok: true };
    const composer = screen.getByTestId('chat-composer');
    const box = within(composer).getByRole('textbox');
    fireEvent.change(box, { target: { value: 'darn it' } });
    fireEvent.submit(composer);
    await waitFor(() => expect(screen.getByTestId('chat-error').dataset.code).toBe('message_blocked'));
    expect(transport.sent.find((s) => s.name === 'chat:send')?.body).toMatchObject({ roomId: ROOM, text: 'darn it' });
    expect((box as HTMLTextAreaElement).value).toBe('darn it');
    expect(screen.queryAllByTestId('chat-message')).toHaveLength(0);
    client.close();
  });

  it('asks a visitor who is not signed in to sign in', () => {
    render(
      <MemoryRouter>
        <ChatPanel client={null} signedIn={false} />
      </MemoryRouter>,
    );
    expect(screen.getByRole('link').getAttribute('href')).toBe('/signin');
    expect(screen.getByTestId('chat').dataset.status).toBe('off');
  });
});
