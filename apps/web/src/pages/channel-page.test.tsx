import type { Room } from '@fusionflow/protocol';
import { render, screen, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, stubFetch } from '../test-fetch';
import { replayFixture, roomFixture } from '../test-fixtures';
import { ChannelPage } from './channel-page';

// The player and the chat have their own tests; here they only show which room they were given.
vi.mock('../components/live-player', () => ({
  LivePlayer: ({ room }: { room: Room }) => <div data-testid="live-player">{room.id}</div>,
}));
vi.mock('../chat/room-chat', () => ({
  RoomChat: ({ room }: { room: Room }) => <div data-testid="room-chat">{room.id}</div>,
}));
vi.mock('../session/session-context', () => ({ useSession: () => ({ user: null, restoring: false }) }));

const channel = (over: Record<string, unknown> = {}) => ({
  handle: 'ann-lee',
  ownerId: 'u1',
  displayName: 'Ann Lee',
  live: null,
  latestRoom: null,
  ...over,
});

const renderAt = (path: string) =>
  render(
    <MemoryRouter initialEntries={[path]}>
      <Routes>
        <Route path="/c/:handle" element={<ChannelPage />} />
      </Routes>
    </MemoryRouter>,
  );

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('ChannelPage', () => {
  it('shows the live broadcast in the viewer (player and chat) with the name and @handle', async () => {
    const live = roomFixture({ id: 'live-1', status: 'live' });
    const { calls } = stubFetch({ '/api/channels/ann-lee': { body: channel({ live, latestRoom: live }) } });
    renderAt('/c/ann-lee');
    expect((await screen.findByTestId('live-player')).textContent).toBe('live-1');
    expect(screen.getByTestId('room-chat').textContent).toBe('live-1');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Ann Lee');
    expect(screen.getByTestId('channel-handle').textContent).toBe('@ann-lee');
    expect(screen.getByTestId('channel-live-title').textContent).toContain('Evening show');
    expect(screen.queryByTestId('channel-offline')).toBeNull();
    // Live: no replay list is asked for.
    expect(calls.some((c) => c.includes('/api/replays'))).toBe(false);
  });

  it('offline: says so, links the latest replay and lists the replays with date, duration and price', async () => {
    const { calls } = stubFetch({
      '/api/channels/ann-lee': { body: channel({ latestRoom: roomFixture({ status: 'ended' }) }) },
      '/api/replays?owner=u1': {
        body: {
          replays: [
            replayFixture({ id: 'rec-newest-01', title: 'Tuesday', ticketPrice: 50 }),
            replayFixture({ id: 'rec-pending-1', title: 'Still recording', status: 'recording' }),
            replayFixture({ id: 'rec-older-001', title: 'Monday', durationMs: 95_000 }),
          ],
          nextCursor: null,
        },
      },
    });
    renderAt('/c/ann-lee');
    const offline = await screen.findByTestId('channel-offline');
    expect(offline.textContent).toContain('Ann Lee is offline');
    const latest = await screen.findByTestId('channel-latest-replay');
    expect(latest.getAttribute('href')).toBe('/replays/rec-newest-01');
    const cards = screen.getAllByTestId('replay-card');
    expect(cards.map((c) => c.getAttribute('data-replay-id'))).toEqual(['rec-newest-01', 'rec-older-001']);
    const first = within(cards[0] as HTMLElement);
    expect(first.getByRole('link').getAttribute('href')).toBe('/replays/rec-newest-01');
    expect(first.getByTestId('replay-duration').textContent).toBe('1:01:05');
    expect(first.getByTestId('paid-badge').textContent).toBe('Paid · 50 tokens');
    expect(first.getByTestId('replay-date').textContent).toMatch(/2026/);
    const second = within(cards[1] as HTMLElement);
    expect(second.getByTestId('replay-duration').textContent).toBe('1:35');
    expect(second.queryByTestId('paid-badge')).toBeNull();
    expect(screen.queryByTestId('live-player')).toBeNull();
    expect(calls).toContain('GET /api/replays?owner=u1');
  });

  it('offline with no replays: the offline card and an empty list, and the next broadcast when one waits', async () => {
    stubFetch({
      '/api/channels/ann-lee': { body: channel({ latestRoom: roomFixture({ id: 'soon', status: 'created' }) }) },
      '/api/replays?owner=u1': { body: { replays: [], nextCursor: null } },
    });
    renderAt('/c/ann-lee');
    expect((await screen.findByTestId('channel-offline')).textContent).toContain('Ann Lee is offline');
    expect(await screen.findByText('No replays yet.')).toBeTruthy();
    expect(screen.queryByTestId('channel-latest-replay')).toBeNull();
    expect(screen.getByTestId('channel-upcoming').getAttribute('href')).toBe('/rooms/soon');
  });

  it('says the channel does not exist on 404 channel_not_found', async () => {
    stubFetch({ '/api/channels/nobody': apiError(404, 'channel_not_found') });
    renderAt('/c/nobody');
    expect(await screen.findByRole('heading', { name: 'Channel not found' })).toBeTruthy();
  });
});
