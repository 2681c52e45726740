import { FusionFlowError } from '@fusionflow/client';
import type { AdminUserDetail } from '@fusionflow/protocol';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { i18n } from '../../i18n/i18n';
import { UsersSection } from './users-section';

const h = vi.hoisted(() => ({
  api: { adminPasswordReset: vi.fn() },
  governance: { searchUsers: vi.fn(), user: vi.fn() },
}));
vi.mock('../../api', () => ({ api: h.api, governance: h.governance }));

const alice = {
  id: 'u-alice',
  email: 'alice@example.test',
  displayName: 'Alice',
  role: 'viewer',
  createdAt: '2026-11-01T10:00:00.000Z',
  studioId: null,
  suspension: null,
} as const;
const detail = {
  ...alice,
  balance: 5,
  earnings: { available: 0, total: 0 },
  recentRooms: [],
  reports: [],
} as unknown as AdminUserDetail;
const link = { resetUrl: 'http://ff.test/reset-password#token=abc', expiresAt: '2026-12-02T08:00:00.000Z' };

/** The console's users tab, with Alice found and opened. */
async function openAlice(isAdmin: boolean) {
  render(<UsersSection isAdmin={isAdmin} />);
  const search = screen.getByRole('textbox');
  fireEvent.change(search, { target: { value: 'alice' } });
  await act(async () => fireEvent.submit(search.closest('form')!));
  fireEvent.click(await screen.findByRole('button', { name: 'Alice' }));
  await screen.findByTestId('user-detail');
}

let clipboard: string[];

beforeEach(async () => {
  await i18n.changeLanguage('en');
  h.api.adminPasswordReset.mockReset();
  h.governance.searchUsers.mockResolvedValue([alice]);
  h.governance.user.mockResolvedValue(detail);
  clipboard = [];
  Object.defineProperty(navigator, 'clipboard', {
    configurable: true,
    value: { writeText: async (text: string) => void clipboard.push(text) },
  });
});

describe('Users: password reset link (servers without email)', () => {
  it('an admin makes a single-use link for the account and copies it', async () => {
    h.api.adminPasswordReset.mockResolvedValue(link);
    await openAlice(true);
    expect(screen.queryByTestId('copy-reset-link')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Make a password reset link' }));
    const copy = await screen.findByTestId('copy-reset-link');
    expect(h.api.adminPasswordReset).toHaveBeenCalledTimes(1);
    expect(h.api.adminPasswordReset).toHaveBeenCalledWith('u-alice');
    expect(screen.getByTestId('reset-link-note').textContent).toMatch(/^Single-use link, valid until .+\./);
    expect(copy.getAttribute('data-url')).toBe(link.resetUrl);
    await act(async () => fireEvent.click(copy));
    expect(clipboard).toEqual([link.resetUrl]);
    expect(copy.textContent).toBe('Link copied');
  });

  it('a moderator is not offered one', async () => {
    await openAlice(false);
    expect(screen.queryByRole('button', { name: 'Make a password reset link' })).toBeNull();
    expect(h.api.adminPasswordReset).not.toHaveBeenCalled();
  });

  it('a refused request says why and shows no link', async () => {
    h.api.adminPasswordReset.mockRejectedValue(
      new FusionFlowError('forbidden', 'only an admin can reset passwords', { status: 403 }),
    );
    await openAlice(true);
    fireEvent.click(screen.getByRole('button', { name: 'Make a password reset link' }));
    const alert = await waitFor(() => {
      const el = screen.getByTestId('password-reset-link').querySelector('[role="alert"]');
      expect(el).not.toBeNull();
      return el!;
    });
    expect(alert.getAttribute('data-code')).toBe('forbidden');
    expect(screen.queryByTestId('copy-reset-link')).toBeNull();
  });

  it('in Spanish', async () => {
    await i18n.changeLanguage('es');
    h.api.adminPasswordReset.mockResolvedValue(link);
    await openAlice(true);
    fireEvent.click(screen.getByRole('button', { name: 'Crear un enlace para restablecer la contraseña' }));
    expect((await screen.findByTestId('copy-reset-link')).textContent).toBe('Copiar enlace de restablecimiento');
    expect(screen.getByTestId('reset-link-note').textContent).toMatch(/^Enlace de un solo uso, válido hasta /);
  });
});
