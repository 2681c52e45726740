import { render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { describe, expect, it, vi } from 'vitest';
import { replayFixture, roomFixture } from '../test-fixtures';
import { EndedBroadcast } from './ended-broadcast';

const h = vi.hoisted(() => ({ api: { request: vi.fn() } }));
vi.mock('../api', () => ({ api: h.api }));

const room = roomFixture({ status: 'ended', title: 'Live', viewerCount: 0 });
const replay = replayFixture({ id: 'rec12345', title: 'Live' });

describe('EndedBroadcast', () => {
  it('shows one offline message and, once the replay is ready, a link to it', async () => {
    h.api.request.mockResolvedValueOnce(replay);
    render(
      <MemoryRouter>
        <EndedBroadcast room={room} />
      </MemoryRouter>,
    );
    expect(screen.getByTestId('broadcast-ended').textContent).toContain('This broadcast has ended.');
    const link = await screen.findByTestId('watch-replay');
    expect(link.getAttribute('href')).toBe('/replays/rec12345');
    expect(h.api.request).toHaveBeenCalledWith(expect.objectContaining({ path: '/api/rooms/r1/replay' }));
  });

  it('shows no link while the replay is not ready', async () => {
    h.api.request.mockReset();
    h.api.request.mockResolvedValueOnce({ ...replay, status: 'recording' });
    render(
      <MemoryRouter>
        <EndedBroadcast room={room} />
      </MemoryRouter>,
    );
    await waitFor(() => expect(h.api.request).toHaveBeenCalledTimes(1));
    expect(screen.queryByTestId('watch-replay')).toBeNull();
  });
});
