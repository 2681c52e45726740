import { fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, stubFetch } from '../test-fetch';
import { ProfilePage } from './profile-page';

const user = {
  id: 'u1',
  email: 'ann@example.com',
  displayName: 'Ann Lee',
  handle: 'ann-lee',
  role: 'streamer',
  language: 'en',
  createdAt: '2026-01-01T00:00:00.000Z',
};
vi.mock('../session/session-context', () => ({ useSession: () => ({ user, restoring: false }) }));
// Its own form with its own requests.
vi.mock('../components/my-reports', () => ({ MyReports: () => null }));

const renderIt = () =>
  render(
    <MemoryRouter>
      <ProfilePage />
    </MemoryRouter>,
  );

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('ProfilePage handle field', () => {
  it('checks the handle as typed with the protocol schema and sends nothing while it is invalid', async () => {
    const { calls } = stubFetch({});
    renderIt();
    const input = screen.getByLabelText('Channel address') as HTMLInputElement;
    expect(input.value).toBe('ann-lee');
    expect(screen.getByTestId('my-channel').getAttribute('href')).toBe('/c/ann-lee');
    fireEvent.change(input, { target: { value: 'no_underscores' } });
    expect(screen.getByTestId('handle-error').textContent).toMatch(/letters a–z/);
    expect(input.getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(input, { target: { value: 'Admin' } });
    expect(screen.getByTestId('handle-error').textContent).toMatch(/reserved/);
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual([]);
    fireEvent.change(input, { target: { value: 'Ann-2' } });
    expect(screen.queryByTestId('handle-error')).toBeNull();
  });

  it("shows the server's handle_taken at the field, and sends the handle lowercased", async () => {
    const { fetch } = stubFetch({ '/api/me': apiError(409, 'handle_taken') });
    renderIt();
    const input = screen.getByLabelText('Channel address');
    fireEvent.change(input, { target: { value: 'Taken-One' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    expect((await screen.findByTestId('handle-error')).textContent).toBe(
      'This channel address is taken; choose another.',
    );
    // Shown once, at the field, not again in the form's alert.
    expect(screen.queryByRole('alert')).toBeNull();
    const [, init] = fetch.mock.calls[0] as [string, RequestInit];
    expect(init.method).toBe('PATCH');
    expect(JSON.parse(String(init.body))).toEqual({ displayName: 'Ann Lee', language: 'en', handle: 'taken-one' });
    // Typing again clears it.
    fireEvent.change(input, { target: { value: 'taken-two' } });
    expect(screen.queryByTestId('handle-error')).toBeNull();
  });
});
