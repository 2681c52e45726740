import { FusionFlowError } from '@fusionflow/client';
import type { Room, SessionEvent } from '@fusionflow/protocol';
import { act, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LivePlayer } from './live-player';

const h = vi.hoisted(() => {
  class FakeWhepPlayer {
    static instances: FakeWhepPlayer[] = [];
    readonly stream = undefined;
    readonly listeners: ((e: SessionEvent) => void)[] = [];
    stopped = false;
    constructor(readonly options: { url: string; token?: string }) {
      FakeWhepPlayer.instances.push(this);
    }
    on(_event: 'session', listener: (e: SessionEvent) => void) {
      this.listeners.push(listener);
      return () => undefined;
    }
    async start() {
      return this;
    }
    async stop() {
      this.stopped = true;
    }
    async selectLayer() {}
    fire(e: SessionEvent) {
      for (const l of this.listeners) l(e);
    }
  }
  return {
    FakeWhepPlayer,
    api: {
      session: { accessToken: 'a' } as unknown,
      guest: vi.fn(),
      requestGrant: vi.fn(),
      getRoom: vi.fn(),
    },
  };
});

vi.mock('@fusionflow/client', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@fusionflow/client')>()),
  WhepPlayer: h.FakeWhepPlayer,
}));
// The ticket gate states the platform fee (wallet.packs); nobody is signed in, so no balance is read.
vi.mock('../api', () => ({
  api: h.api,
  wallet: {
    packs: () => Promise.resolve({ packs: [], providers: [], platformFeePercent: 20, studioSharePercent: 10 }),
  },
}));
vi.mock('../session/session-context', () => ({ useSession: () => ({ user: null }) }));

const room = (over: Partial<Room> = {}) =>
  ({ id: 'r1', kind: 'live', status: 'live', title: 'Live', viewerCount: 0, ticketPrice: null, ...over }) as Room;

function renderPlayer(r: Room) {
  const onChange = vi.fn();
  render(
    <MemoryRouter>
      <LivePlayer room={r} onChange={onChange} />
    </MemoryRouter>,
  );
  return { onChange };
}

beforeEach(() => {
  h.FakeWhepPlayer.instances.length = 0;
  h.api.requestGrant.mockReset();
  h.api.getRoom.mockReset();
  h.api.getRoom.mockResolvedValue(room());
});

describe('LivePlayer state machine', () => {
  it('connecting → playing on the grant and the WHEP answer; ended when the session ends with the room', async () => {
    h.api.requestGrant.mockResolvedValue({ token: 'g', iceServers: [], whepUrl: '/api/whep/play/r1' });
    const { onChange } = renderPlayer(room());
    await waitFor(() => expect(screen.queryByTestId('player-status')).toBeNull());
    const player = h.FakeWhepPlayer.instances[0]!;
    expect(player.options).toMatchObject({ url: '/api/whep/play/r1', token: 'g' });
    act(() => player.fire({ type: 'viewers', count: 3 }));
    expect(screen.getByTestId('viewer-count').textContent).toContain('3');
    h.api.getRoom.mockResolvedValue(room({ status: 'ended' }));
    act(() => player.fire({ type: 'ended', reason: 'publisher_left' }));
    await waitFor(() => expect(screen.getByTestId('stream-ended').textContent).toBe('The stream has ended.'));
    expect(onChange).toHaveBeenCalledWith(expect.objectContaining({ status: 'ended' }));
    expect(player.stopped).toBe(true);
  });

  it('interrupted (not ended) when the session ends while the room is still live', async () => {
    h.api.requestGrant.mockResolvedValue({ token: 'g', iceServers: [] });
    renderPlayer(room());
    await waitFor(() => expect(h.FakeWhepPlayer.instances).toHaveLength(1));
    await waitFor(() => expect(screen.queryByTestId('player-status')).toBeNull());
    act(() => h.FakeWhepPlayer.instances[0]!.fire({ type: 'ended', reason: 'ice_failed' }));
    await waitFor(() =>
      expect(screen.getByTestId('player-status').textContent).toBe(
        'The stream was interrupted. Waiting for the streamer…',
      ),
    );
  });

  it('waits (connecting, no error shown) while nobody publishes', async () => {
    h.api.requestGrant.mockRejectedValue(new FusionFlowError('no_publisher', 'nobody is live'));
    renderPlayer(room());
    await waitFor(() => expect(h.api.requestGrant).toHaveBeenCalled());
    expect(screen.getByTestId('player-status').textContent).toBe('Connecting to the stream…');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('ended at once for an ended room, without asking for a grant', () => {
    renderPlayer(room({ status: 'ended' }));
    expect(screen.getByTestId('stream-ended')).toBeTruthy();
    expect(h.api.requestGrant).not.toHaveBeenCalled();
  });

  it('ticket: a paid stream without a ticket hides the player and shows the gate', async () => {
    h.api.requestGrant.mockRejectedValue(new FusionFlowError('ticket_required', 'buy a ticket'));
    const { container } = render(
      <MemoryRouter>
        <LivePlayer room={room({ ticketPrice: 50 })} onChange={() => undefined} />
      </MemoryRouter>,
    );
    await waitFor(() => expect(container.querySelector('.player')?.hasAttribute('hidden')).toBe(true));
    expect(h.FakeWhepPlayer.instances).toHaveLength(0);
  });
});
