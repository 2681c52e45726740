import type { Room } from '@fusionflow/protocol';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveStudio } from './live-studio';

const h = vi.hoisted(() => {
  /** Stands in for the SDK's WhipPublisher (it has its own tests): the test tells its `iceRestart` events. */
  class FakeWhipPublisher {
    static instances: FakeWhipPublisher[] = [];
    readonly listeners = new Map<string, Set<(value: unknown) => void>>();
    /** A peer connection whose ICE went through a TURN relay (its selected pair's local candidate). */
    readonly pc = {
      getSenders: () => [],
      getStats: async () =>
        new Map<string, Record<string, unknown>>([
          ['t', { id: 't', type: 'transport', selectedCandidatePairId: 'p' }],
          [
            'p',
            {
              id: 'p',
              type: 'candidate-pair',
              localCandidateId: 'l',
              remoteCandidateId: 'r',
              state: 'succeeded',
              nominated: true,
            },
          ],
          ['l', { id: 'l', type: 'local-candidate', candidateType: 'relay' }],
          ['r', { id: 'r', type: 'remote-candidate', candidateType: 'host' }],
        ]),
    };
    stopped = false;
    constructor(readonly options: { url: string; token: string }) {
      FakeWhipPublisher.instances.push(this);
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
    async start() {
      return this;
    }
    async stop() {
      this.stopped = true;
    }
    dropped = false;
    async drop() {
      this.dropped = true;
    }
  }
  let grants = 0;
  return {
    FakeWhipPublisher,
    api: {
      requestGrant: vi.fn(async () => ({
        token: `grant-${++grants}`,
        iceServers: [],
        whipUrl: '/api/whip/publish/r1',
      })),
      getRoom: vi.fn(),
      getStreamKeyInfo: vi.fn(async () => ({ exists: false })),
      endRoom: vi.fn(async () => ({ id: 'r1', kind: 'live', status: 'ended', title: 'Live', viewerCount: 0 })),
      reportMedia: vi.fn(async () => undefined),
    },
  };
});

vi.mock('@fusionflow/client', async (importOriginal) => {
  const sdk = await importOriginal<typeof import('@fusionflow/client')>();
  return { ...sdk, WhipPublisher: h.FakeWhipPublisher };
});
vi.mock('../api', () => ({ api: h.api }));

const room = { id: 'r1', kind: 'live', status: 'live', title: 'Live', viewerCount: 0 } as Room;

beforeEach(() => {
  h.FakeWhipPublisher.instances.length = 0;
  sessionStorage.clear();
  h.api.reportMedia.mockClear();
  const stream = { getTracks: () => [] };
  // jsdom's video takes only its own MediaStream.
  Object.defineProperty(HTMLMediaElement.prototype, 'srcObject', {
    configurable: true,
    get: () => null,
    set: () => {},
  });
  Object.defineProperty(navigator, 'mediaDevices', {
    configurable: true,
    value: { getUserMedia: vi.fn(async () => stream), enumerateDevices: vi.fn(async () => []) },
  });
});

describe('LiveStudio', () => {
  it('goes live again with a fresh grant when the publisher’s own ICE restart fails, and not when it succeeds', async () => {
    render(<LiveStudio room={room} onChange={() => {}} />);
    const goLive = await screen.findByTestId('go-live');
    await waitFor(() => expect((goLive as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(goLive);
    await screen.findByTestId('on-air');
    const first = h.FakeWhipPublisher.instances[0]!;
    expect(first.options.token).toBe('grant-1');

    act(() => first.emit('iceRestart', { state: 'restarting', cause: 'network' }));
    act(() => first.emit('iceRestart', { state: 'restarted' }));
    expect(h.FakeWhipPublisher.instances).toHaveLength(1);
    expect(first.stopped).toBe(false);

    act(() => first.emit('iceRestart', { state: 'failed', error: new Error('gone') }));
    await waitFor(() => expect(h.FakeWhipPublisher.instances).toHaveLength(2));
    expect(first.stopped).toBe(true);
    expect(h.FakeWhipPublisher.instances[1]!.options.token).toBe('grant-2');
    await screen.findByTestId('on-air');
  });

  async function goLive() {
    const button = await screen.findByTestId('go-live');
    await waitFor(() => expect((button as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(button);
    await screen.findByTestId('on-air');
    return h.FakeWhipPublisher.instances.at(-1)!;
  }

  it('asks before stopping: "Keep streaming" and Escape keep the stream, "End the broadcast" stops it', async () => {
    const onChange = vi.fn();
    render(<LiveStudio room={room} onChange={onChange} />);
    const publisher = await goLive();

    fireEvent.click(screen.getByTestId('stop-live'));
    const dialog = screen.getByRole('dialog', { name: 'End the broadcast?' });
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Keep streaming' }));
    fireEvent.click(screen.getByRole('button', { name: 'Keep streaming' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(publisher.stopped).toBe(false);

    fireEvent.click(screen.getByTestId('stop-live'));
    fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(publisher.stopped).toBe(false);
    expect(dialog).toBeTruthy();

    fireEvent.click(screen.getByTestId('stop-live'));
    fireEvent.click(screen.getByRole('button', { name: 'End the broadcast' }));
    await waitFor(() => expect(publisher.stopped).toBe(true));
    await waitFor(() => expect(h.api.endRoom).toHaveBeenCalledWith('r1'));
    await waitFor(() => expect(onChange).toHaveBeenCalled());
  });

  it('says when ICE restarts and when the network forces the relay; reports the broadcast once, when it stops', async () => {
    render(<LiveStudio room={room} onChange={() => {}} />);
    const first = await goLive();
    // The studio reads the connection's stats about once a second while live: this one relays.
    expect((await screen.findByTestId('relay-notice', {}, { timeout: 3000 })).textContent).toBe(
      'Your network blocks direct connections; using the relay.',
    );
    expect(screen.queryByTestId('studio-reconnecting')).toBeNull();
    act(() => first.emit('iceRestart', { state: 'restarting', cause: 'network' }));
    expect(screen.getByTestId('studio-reconnecting').textContent).toBe(
      'The connection dropped. Reconnecting… (you are still live)',
    );
    act(() => first.emit('iceRestart', { state: 'restarted' }));
    expect(screen.queryByTestId('studio-reconnecting')).toBeNull();
    act(() => first.emit('iceRestart', { state: 'restarting', cause: 'network' }));
    act(() => first.emit('iceRestart', { state: 'failed', error: new Error('gone') }));
    await waitFor(() => expect(h.FakeWhipPublisher.instances).toHaveLength(2));
    await screen.findByTestId('on-air');
    expect(screen.queryByTestId('studio-reconnecting')).toBeNull();
    expect(h.api.reportMedia).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId('stop-live'));
    fireEvent.click(screen.getByRole('button', { name: 'End the broadcast' }));
    await waitFor(() => expect(h.api.reportMedia).toHaveBeenCalledTimes(1));
    const [roomId, report, options] = h.api.reportMedia.mock.calls[0] as unknown as [string, object, object];
    expect(roomId).toBe('r1');
    expect(report).toMatchObject({ kind: 'publish', iceFailures: { restart_failed: 1 } });
    expect((report as { candidateTypes: { relay: number } }).candidateTypes.relay).toBeGreaterThanOrEqual(1);
    // A studio decodes nothing: no join time, no freezes.
    expect(report).not.toHaveProperty('joinSeconds');
    expect(report).not.toHaveProperty('freezes');
    expect(options).toEqual({ keepalive: true });
  });

  it('registers the beforeunload prompt only while live', async () => {
    const add = vi.spyOn(window, 'addEventListener');
    const remove = vi.spyOn(window, 'removeEventListener');
    render(<LiveStudio room={room} onChange={() => {}} />);
    await screen.findByTestId('go-live');
    expect(add.mock.calls.some(([type]) => type === 'beforeunload')).toBe(false);
    await goLive();
    expect(add.mock.calls.some(([type]) => type === 'beforeunload')).toBe(true);
    const event = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(event);
    expect(event.defaultPrevented).toBe(true);

    fireEvent.click(screen.getByTestId('stop-live'));
    fireEvent.click(screen.getByRole('button', { name: 'End the broadcast' }));
    await screen.findByTestId('go-live');
    expect(remove.mock.calls.some(([type]) => type === 'beforeunload')).toBe(true);
    add.mockRestore();
    remove.mockRestore();
  });

  it('a reload while live drops the stream (no DELETE) and the reloaded studio goes live again by itself', async () => {
    const first = render(<LiveStudio room={room} onChange={() => {}} />);
    const publisher = await goLive();
    window.dispatchEvent(new Event('pagehide'));
    expect(publisher.dropped).toBe(true);
    expect(publisher.stopped).toBe(false);
    first.unmount();

    // The page loads again: on air without a click, with a fresh grant.
    render(<LiveStudio room={room} onChange={() => {}} />);
    await screen.findByTestId('on-air');
    expect(h.FakeWhipPublisher.instances).toHaveLength(2);
    // It holds once: the next load is a plain studio.
    expect(sessionStorage.length).toBe(0);
  });

  it('a studio hidden while not live, or loaded long after, does not go live by itself', async () => {
    const first = render(<LiveStudio room={room} onChange={() => {}} />);
    await screen.findByTestId('go-live');
    window.dispatchEvent(new Event('pagehide'));
    first.unmount();
    expect(sessionStorage.length).toBe(0);

    sessionStorage.setItem('fusionflow.studio.resume.r1', String(Date.now() - 5 * 60_000));
    render(<LiveStudio room={room} onChange={() => {}} />);
    const button = await screen.findByTestId('go-live');
    await waitFor(() => expect((button as HTMLButtonElement).disabled).toBe(false));
    expect(h.FakeWhipPublisher.instances).toHaveLength(0);
  });
});
