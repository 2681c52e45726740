import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter, Route, Routes, useParams } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, stubFetch } from '../test-fetch';
import { roomFixture } from '../test-fixtures';
import { BroadcastSummary } from './broadcast-summary';

const ended = roomFixture({
  status: 'ended',
  ticketPrice: 25,
  record: false,
  viewerCount: 0,
  startedAt: '2026-01-01T18:00:00.000Z',
  endedAt: '2026-01-01T19:01:05.000Z',
});
const SUMMARY = {
  roomId: 'r1',
  status: 'ended',
  durationSeconds: 3665,
  peakViewers: 1234,
  averageViewers: 310.5,
  tipsEarned: 4600,
  ticketsSold: 3,
  ticketsEarned: 60,
  messages: 87,
};

function NewRoom() {
  return <p data-testid="new-room">{useParams().id}</p>;
}

const renderSummary = () =>
  render(
    <MemoryRouter initialEntries={['/rooms/r1']}>
      <Routes>
        <Route path="/rooms/r1" element={<BroadcastSummary room={ended} />} />
        <Route path="/rooms/:id" element={<NewRoom />} />
      </Routes>
    </MemoryRouter>,
  );

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('BroadcastSummary', () => {
  it("shows the broadcast's duration, viewers, earnings and chat messages", async () => {
    const { calls } = stubFetch({ '/api/rooms/r1/summary': { body: SUMMARY } });
    renderSummary();
    expect(screen.getByTestId('broadcast-summary').textContent).toContain('This broadcast has ended.');
    expect(screen.getByTestId('broadcast-duration').textContent).toBe('Duration: 1:01:05');
    expect((await screen.findByTestId('summary-peak-viewers')).textContent).toBe('1,234');
    expect(screen.getByTestId('summary-average-viewers').textContent).toBe('310.5');
    expect(screen.getByTestId('summary-tips-earned').textContent).toBe('4,600 tokens');
    expect(screen.getByTestId('summary-tickets').textContent).toBe('3 sold, 60 tokens earned');
    expect(screen.getByTestId('summary-messages').textContent).toBe('87');
    expect(calls).toContain('GET /api/rooms/r1/summary');
  });

  it('says why when the summary cannot be loaded, and keeps the duration', async () => {
    stubFetch({ '/api/rooms/r1/summary': apiError(403, 'not_room_owner') });
    renderSummary();
    expect(await screen.findByText('Only the host of this room can do that.')).toBeTruthy();
    expect(screen.getByTestId('broadcast-duration')).toBeTruthy();
    expect(screen.queryByTestId('broadcast-stats')).toBeNull();
  });

  it('goes live again: a new live room with the same title, ticket price and recording, opened in the studio', async () => {
    const { fetch } = stubFetch({
      '/api/rooms/r1/summary': { body: SUMMARY },
      '/api/rooms': (init) => ({
        status: 201,
        body: roomFixture({ ...JSON.parse(String(init?.body)), id: 'r2', status: 'created', startedAt: null }),
      }),
    });
    renderSummary();
    await screen.findByTestId('summary-peak-viewers');
    fireEvent.click(screen.getByTestId('go-live-again'));
    expect((await screen.findByTestId('new-room')).textContent).toBe('r2');
    const created = fetch.mock.calls.filter(([url, init]) => url === '/api/rooms' && init?.method === 'POST');
    expect(created).toHaveLength(1);
    expect(JSON.parse(String(created[0]?.[1]?.body))).toEqual({
      kind: 'live',
      title: 'Evening show',
      record: false,
      ticketPrice: 25,
    });
  });

  it('stays on the summary with the reason when the new room cannot be created', async () => {
    stubFetch({
      '/api/rooms/r1/summary': { body: SUMMARY },
      '/api/rooms': apiError(403, 'forbidden'),
    });
    renderSummary();
    fireEvent.click(screen.getByTestId('go-live-again'));
    expect(await screen.findByText('You are not allowed to do that.')).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId('go-live-again').hasAttribute('disabled')).toBe(false));
    expect(screen.queryByTestId('new-room')).toBeNull();
  });
});
