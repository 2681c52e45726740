import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, stubFetch } from '../test-fetch';
import { replayFixture } from '../test-fixtures';
import { RecentReplays } from './recent-replays';

const renderIt = () =>
  render(
    <MemoryRouter>
      <RecentReplays />
    </MemoryRouter>,
  );

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('RecentReplays (home page)', () => {
  it('lists the latest twelve replays with their host, linking to each', async () => {
    const { calls } = stubFetch({
      '/api/replays?limit=12': {
        body: { replays: [replayFixture({ id: 'rec-a-000001', title: 'First', ticketPrice: 1 })], nextCursor: null },
      },
    });
    renderIt();
    const card = await screen.findByTestId('replay-card');
    expect(screen.getByRole('heading', { name: 'Recent replays' })).toBeTruthy();
    expect(card.textContent).toContain('First');
    expect(card.textContent).toContain('Hosted by Ann Lee');
    expect(screen.getByTestId('paid-badge').textContent).toBe('Paid · 1 token');
    expect(screen.getByRole('link', { name: 'First' }).getAttribute('href')).toBe('/replays/rec-a-000001');
    expect(calls).toEqual(['GET /api/replays?limit=12']);
  });

  it.each([
    ['fails', apiError(500, 'internal_error')],
    ['returns none', { body: { replays: [], nextCursor: null } }],
    ['answers something that is not a replay list', { body: { replays: [{ id: 'x' }] } }],
  ])('hides the section when the request %s', async (_, route) => {
    const { fetch } = stubFetch({ '/api/replays?limit=12': route });
    const { container } = renderIt();
    await vi.waitFor(() => expect(fetch).toHaveBeenCalled());
    await new Promise((r) => setTimeout(r, 20));
    expect(container.innerHTML).toBe('');
    expect(screen.queryByTestId('recent-replays')).toBeNull();
  });
});
