import { FusionFlowError } from '@fusionflow/client';
import type { Room, SessionEvent } from '@fusionflow/protocol';
import { act, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LivePlayer } from './live-player';

const h = vi.hoisted(() => {
  type Failure = { reason: string; endedReason?: string; error?: unknown };
  type Options = {
    session: () => Promise<{ url: string; token?: string }>;
    retry?: (failure: Failure, byDefault: boolean) => boolean | Promise<boolean>;
  };
  /**
   * Stands in for the SDK's RetryingWhepPlayer (it has its own tests): asks the component for a session, tells it
   * the states and events, and asks it whether to try again after a failure, with the SDK's own default answer.
   */
  class FakeRetryingWhepPlayer {
    static instances: FakeRetryingWhepPlayer[] = [];
    static sdk: {
      classify: (error: unknown) => Failure;
      byDefault: (failure: Failure) => boolean;
    };
    readonly listeners = new Map<string, Set<(value: unknown) => void>>();
    sessionOptions: { url: string; token?: string } | undefined;
    /** The current session (a stand-in WhepPlayer: its peer connection's stats and its iceRestart events). */
    player: unknown;
    /** The component's answers to "try again?", in order. */
    readonly decisions: boolean[] = [];
    stopped = false;
    constructor(readonly options: Options) {
      FakeRetryingWhepPlayer.instances.push(this);
    }
    on(event: string, listener: (value: never) => void) {
      const set = this.listeners.get(event) ?? new Set();
      set.add(listener as (value: unknown) => void);
      this.listeners.set(event, set);
      return () => set.delete(listener as (value: unknown) => void);
    }
    emit(event: string, value: unknown) {
      for (const l of this.listeners.get(event) ?? []) l(value);
    }
    start() {
      void this.attempt();
      return this;
    }
    async attempt() {
      this.emit('state', { state: 'connecting' });
      try {
        this.sessionOptions = await this.options.session();
      } catch (error) {
        await this.fail(FakeRetryingWhepPlayer.sdk.classify(error));
        return;
      }
      this.emit('state', { state: 'playing' });
    }
    async fail(failure: Failure) {
      const byDefault = FakeRetryingWhepPlayer.sdk.byDefault(failure);
      const again = this.options.retry ? await this.options.retry(failure, byDefault) : byDefault;
      this.decisions.push(again);
      if (!again) this.stopped = true;
    }
    async fire(e: SessionEvent) {
      this.emit('event', e);
      if (e.type === 'ended') await this.fail({ reason: 'ended', endedReason: e.reason });
    }
    async stop() {
      this.stopped = true;
    }
  }
  return {
    FakeRetryingWhepPlayer,
    api: {
      session: { accessToken: 'a' } as unknown,
      guest: vi.fn(),
      requestGrant: vi.fn(),
      getRoom: vi.fn(),
      reportMedia: vi.fn(),
    },
  };
});

vi.mock('@fusionflow/client', async (importOriginal) => {
  const sdk = await importOriginal<typeof import('@fusionflow/client')>();
  h.FakeRetryingWhepPlayer.sdk = {
    classify: sdk.classifyWhepError,
    byDefault: (failure) => sdk.retriesByDefault(failure as Parameters<typeof sdk.retriesByDefault>[0]),
  };
  return { ...sdk, RetryingWhepPlayer: h.FakeRetryingWhepPlayer };
});
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
  h.FakeRetryingWhepPlayer.instances.length = 0;
  h.api.requestGrant.mockReset();
  h.api.getRoom.mockReset();
  h.api.getRoom.mockResolvedValue(room());
});

describe('LivePlayer state machine', () => {
  it('connecting → playing on the grant and the WHEP answer; ended when the session ends with the room', async () => {
    h.api.requestGrant.mockResolvedValue({ token: 'g', iceServers: [], whepUrl: '/api/whep/play/r1' });
    const { onChange } = renderPlayer(room());
    await waitFor(() => expect(screen.queryByTestId('player-status')).toBeNull());
    const player = h.FakeRetryingWhepPlayer.instances[0]!;
    expect(player.sessionOptions).toMatchObject({ url: '/api/whep/play/r1', token: 'g' });
    act(() => void player.fire({ type: 'viewers', count: 3 }));
    expect(screen.getByTestId('viewer-count').textContent).toContain('3');
    h.api.getRoom.mockResolvedValue(room({ status: 'ended' }));
    await act(() => player.fire({ type: 'ended', reason: 'publisher_left' }));
    await waitFor(() => expect(screen.getByTestId('stream-ended').textContent).toBe('The stream has ended.'));
    expect(onChange).toHaveBeenCalledWith(expect.objectContaining({ status: 'ended' }));
    // The room is over: no other attempt.
    expect(player.decisions).toEqual([false]);
  });

  it('interrupted (not ended) when the session ends while the room is still live', async () => {
    h.api.requestGrant.mockResolvedValue({ token: 'g', iceServers: [] });
    renderPlayer(room());
    await waitFor(() => expect(h.FakeRetryingWhepPlayer.instances).toHaveLength(1));
    await waitFor(() => expect(screen.queryByTestId('player-status')).toBeNull());
    const player = h.FakeRetryingWhepPlayer.instances[0]!;
    await act(() => player.fire({ type: 'ended', reason: 'ice_failed' }));
    await waitFor(() =>
      expect(screen.getByTestId('player-status').textContent).toBe(
        'The stream was interrupted. Waiting for the streamer…',
      ),
    );
    // Still live: the player tries again.
    expect(player.decisions).toEqual([true]);
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
    // Nothing plays until a ticket is bought: no other attempt.
    await waitFor(() => expect(h.FakeRetryingWhepPlayer.instances[0]!.decisions).toEqual([false]));
  });

  it('full: a media server at its budget (503 sfu_full) says so and keeps trying', async () => {
    h.api.requestGrant.mockResolvedValue({ token: 'g', iceServers: [] });
    renderPlayer(room());
    await waitFor(() => expect(h.FakeRetryingWhepPlayer.instances).toHaveLength(1));
    const player = h.FakeRetryingWhepPlayer.instances[0]!;
    await waitFor(() => expect(player.sessionOptions).toBeDefined());
    await act(() =>
      player.fail(h.FakeRetryingWhepPlayer.sdk.classify(new FusionFlowError('sfu_full', 'full', { status: 503 }))),
    );
    expect(screen.getByTestId('player-status').textContent).toBe('This stream is full, retrying…');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(player.decisions).toEqual([true]);
  });

  it('shows the connection from getStats, a banner while ICE restarts, the relay notice, and reports the join', async () => {
    h.api.requestGrant.mockResolvedValue({ token: 'g', iceServers: [] });
    h.api.reportMedia.mockResolvedValue(undefined);
    renderPlayer(room());
    await waitFor(() => expect(h.FakeRetryingWhepPlayer.instances).toHaveLength(1));
    const viewer = h.FakeRetryingWhepPlayer.instances[0]!;
    // A session whose peer connection decodes 25 frames a second through a TURN relay, 40 ms away.
    let frames = 0;
    const restarts = new Set<(e: unknown) => void>();
    const session = {
      stream: undefined,
      pc: {
        getStats: async () => {
          frames += 25;
          return new Map<string, Record<string, unknown>>([
            [
              'v',
              {
                id: 'v',
                type: 'inbound-rtp',
                kind: 'video',
                packetsReceived: frames * 3,
                packetsLost: 0,
                framesDecoded: frames,
              },
            ],
            ['t', { id: 't', type: 'transport', selectedCandidatePairId: 'p' }],
            [
              'p',
              {
                id: 'p',
                type: 'candidate-pair',
                localCandidateId: 'l',
                remoteCandidateId: 'r',
                currentRoundTripTime: 0.04,
                state: 'succeeded',
                nominated: true,
              },
            ],
            ['l', { id: 'l', type: 'local-candidate', candidateType: 'relay' }],
            ['r', { id: 'r', type: 'remote-candidate', candidateType: 'host' }],
          ]);
        },
      },
      on: (event: string, listener: (e: unknown) => void) => {
        if (event === 'iceRestart') restarts.add(listener);
        return () => restarts.delete(listener);
      },
    };
    viewer.player = session;
    act(() => viewer.emit('player', session));
    const badge = await screen.findByTestId('connection-quality', {}, { timeout: 4000 });
    await waitFor(() => expect(badge.getAttribute('data-fps')).not.toBe(''), { timeout: 4000 });
    expect(badge.getAttribute('data-path')).toBe('relay');
    expect(badge.getAttribute('aria-label')).toMatch(
      /^(Good|Fair) connection: packet loss 0 %, round trip 40 ms, \d+ frames per second, through the relay server$/,
    );
    expect(screen.getByTestId('relay-notice').textContent).toBe(
      'Your network blocks direct connections; using the relay.',
    );
    expect(h.api.reportMedia).toHaveBeenCalledWith(
      'r1',
      expect.objectContaining({ kind: 'watch', candidateTypes: { relay: 1 }, joinSeconds: expect.any(Number) }),
      { keepalive: false },
    );

    act(() => {
      for (const l of restarts) l({ state: 'restarting', cause: 'network' });
    });
    expect(screen.getByTestId('watch-reconnecting').textContent).toBe('The connection dropped. Reconnecting…');
    act(() => {
      for (const l of restarts) l({ state: 'restarted' });
    });
    expect(screen.queryByTestId('watch-reconnecting')).toBeNull();
  });
});
