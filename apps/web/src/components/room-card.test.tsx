import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import { roomFixture } from '../test-fixtures';
import { RoomCard } from './room-card';

const renderCard = (room = roomFixture()) =>
  render(
    <MemoryRouter>
      <ul>
        <RoomCard room={room} />
      </ul>
    </MemoryRouter>,
  );

describe('RoomCard', () => {
  it('shows a live broadcast with its viewer count, the ticket price and a link to the host’s channel', () => {
    renderCard(roomFixture({ viewerCount: 12, ticketPrice: 25 }));
    expect(screen.getByTestId('room-card-viewers').textContent).toBe('12 viewers');
    expect(screen.getByTestId('paid-badge').textContent).toBe('Paid · 25 tokens');
    const host = screen.getByTestId('channel-link');
    expect(host.textContent).toBe('Ann Lee');
    expect(host.getAttribute('href')).toBe('/c/ann-lee');
    expect(screen.getByRole('link', { name: 'Evening show' }).getAttribute('href')).toBe('/rooms/r1');
  });

  it('shows a host name as text, whatever it contains', () => {
    renderCard(roomFixture({ ownerName: '<i>Ann</i> {{x}}' }));
    const host = screen.getByTestId('channel-link');
    expect(host.textContent).toBe('<i>Ann</i> {{x}}');
    expect(host.querySelector('i')).toBeNull();
    expect(host.closest('p')?.textContent).toBe('Hosted by <i>Ann</i> {{x}}');
  });

  it('has no paid badge for a free broadcast and no viewer count for a call', () => {
    renderCard(roomFixture({ kind: 'call', pricePerMinute: 3 }));
    expect(screen.queryByTestId('paid-badge')).toBeNull();
    expect(screen.queryByTestId('room-card-viewers')).toBeNull();
  });
});
