import { FusionFlowError } from '@fusionflow/client';
import { act, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { describe, expect, it, vi } from 'vitest';
import { replayFixture } from '../test-fixtures';
import { ReplayPage } from './replay-page';

const h = vi.hoisted(() => ({
  api: { request: vi.fn() },
  wallet: { balance: vi.fn(), buyTicket: vi.fn(), packs: vi.fn(() => new Promise(() => {})) },
}));
vi.mock('../api', () => ({ api: h.api, wallet: h.wallet }));
vi.mock('../session/session-context', () => ({ useSession: () => ({ user: { id: 'u3', role: 'user' } }) }));

const renderPage = () =>
  render(
    <MemoryRouter initialEntries={['/replays/rec12345']}>
      <Routes>
        <Route path="/replays/:id" element={<ReplayPage />} />
      </Routes>
    </MemoryRouter>,
  );

const replay = replayFixture({ id: 'rec12345', title: 'My show' });
const message = (id: string, text: string, offsetMs: number) => ({
  id,
  roomId: 'r1',
  clientId: id,
  author: { userId: 'u2', displayName: 'Bob', moderator: false },
  language: 'en',
  text,
  sentAt: '2026-01-01T00:00:00Z',
  reactions: [],
  offsetMs,
});

describe('ReplayPage', () => {
  it('plays the playback URL and shows the chat messages up to currentTime, also after seeking back', async () => {
    h.api.request.mockImplementation(async ({ path, method }: { path: string; method: string }) => {
      if (method === 'POST') return { url: '/media/x.webm?token=t', contentType: 'video/webm', expiresAt: 'x' };
      if (path.includes('/chat')) return { messages: [message('m1', 'hello', 1000), message('m2', 'later', 5000)] };
      return replay;
    });
    renderPage();
    const video = (await screen.findByTestId('replay-video')) as HTMLVideoElement;
    expect(video.getAttribute('src')).toBe('/media/x.webm?token=t');
    await screen.findByText('My show');
    const at = (seconds: number, event: 'timeUpdate' | 'seeked') => {
      Object.defineProperty(video, 'currentTime', { configurable: true, value: seconds });
      act(() => fireEvent[event](video));
    };
    await act(async () => {});
    at(2, 'timeUpdate');
    expect(screen.getByTestId('replay-chat').textContent).toContain('hello');
    expect(screen.getByTestId('replay-chat').textContent).not.toContain('later');
    at(6, 'timeUpdate');
    expect(screen.getByTestId('replay-chat').textContent).toContain('later');
    at(0.5, 'seeked');
    expect(screen.getByTestId('replay-chat').textContent).toBe('');
  });

  it('offers a ticket on 402 ticket_required and plays after buying it', async () => {
    h.api.request.mockReset();
    let paid = false;
    h.api.request.mockImplementation(async ({ path, method }: { path: string; method: string }) => {
      if (method === 'POST') {
        if (!paid) throw new FusionFlowError('ticket_required', 'ticket required', { status: 402 });
        return { url: '/media/paid.webm?token=t', contentType: 'video/webm', expiresAt: 'x' };
      }
      if (path.includes('/chat')) return { messages: [] };
      return { ...replay, ticketPrice: 50 };
    });
    h.wallet.balance.mockResolvedValue(100);
    h.wallet.buyTicket.mockImplementation(async () => {
      paid = true;
      return { entitlement: { id: 'e1', price: 50, createdAt: '2026-01-01T00:00:00Z' }, balance: 50 };
    });
    renderPage();
    await screen.findByTestId('ticket-gate');
    expect(screen.queryByTestId('replay-video')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: /buy/i }));
    fireEvent.click(await screen.findByRole('button', { name: /50/ }));
    fireEvent.click(await screen.findByTestId('ticket-watch'));
    expect(h.wallet.buyTicket).toHaveBeenCalledWith('r1', { expectedPrice: 50 }, expect.any(String));
    const video = await screen.findByTestId('replay-video');
    expect(video.getAttribute('src')).toBe('/media/paid.webm?token=t');
  });

  it.each(['not_found', 'recording_not_found'] as const)('shows not found on 404 %s', async (code) => {
    h.api.request.mockReset();
    h.api.request.mockRejectedValue(new FusionFlowError(code, 'no', { status: 404 }));
    renderPage();
    expect(await screen.findByText(/not found|does not exist/i)).toBeTruthy();
  });
});
