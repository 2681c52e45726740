import { fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, stubFetch } from '../test-fetch';
import { SignUpPage } from './sign-up-page';

const renderIt = () =>
  render(
    <MemoryRouter>
      <SignUpPage />
    </MemoryRouter>,
  );

const fill = () => {
  fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ann@example.com' } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse battery' } });
  fireEvent.change(screen.getByLabelText('Display name'), { target: { value: 'Ann Lee' } });
};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('SignUpPage handle', () => {
  it('leaves an empty handle out (the server derives one) and shows handle_taken at the field', async () => {
    let calls = 0;
    const { fetch } = stubFetch({
      '/api/auth/register': () => (++calls === 1 ? apiError(429, 'rate_limited') : apiError(409, 'handle_taken')),
    });
    renderIt();
    fill();
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    await screen.findByRole('alert');
    expect(screen.queryByTestId('handle-error')).toBeNull();
    const first = JSON.parse(String((fetch.mock.calls[0] as [string, RequestInit])[1].body));
    expect(first).not.toHaveProperty('handle');

    fireEvent.change(screen.getByLabelText('Channel address'), { target: { value: 'Ann' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect((await screen.findByTestId('handle-error')).textContent).toBe(
      'This channel address is taken; choose another.',
    );
    expect(screen.queryByRole('alert')).toBeNull();
    const second = JSON.parse(String((fetch.mock.calls[1] as [string, RequestInit])[1].body));
    expect(second.handle).toBe('ann');
  });
});
