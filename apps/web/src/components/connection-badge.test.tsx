import type { ConnectionQuality } from '@fusionflow/client';
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { i18n } from '../i18n/i18n';
import { ConnectionBadge, RelayNotice } from './connection-badge';

const good: ConnectionQuality = {
  level: 'good',
  lossPercent: 0,
  rttMs: 12,
  framesPerSecond: 29.6,
  path: 'direct',
  localCandidateType: 'host',
  remoteCandidateType: 'host',
  framesDecoded: 300,
};

describe('ConnectionBadge', () => {
  it('names the level and the numbers behind it (accessible name and tooltip)', () => {
    render(<ConnectionBadge quality={good} />);
    const badge = screen.getByRole('img', {
      name: 'Good connection: packet loss 0 %, round trip 12 ms, 30 frames per second, direct',
    });
    expect(badge.getAttribute('title')).toBe(badge.getAttribute('aria-label'));
    expect(badge.dataset.level).toBe('good');
    expect(badge.textContent).toBe('Good');
  });

  it('says Relay when the media goes through TURN, and leaves out what is not measured', () => {
    render(
      <ConnectionBadge
        quality={{ ...good, level: 'poor', lossPercent: null, framesPerSecond: null, rttMs: 640, path: 'relay' }}
      />,
    );
    const badge = screen.getByRole('img', { name: 'Poor connection: round trip 640 ms, through the relay server' });
    expect(badge.textContent).toBe('PoorRelay');
  });

  it('shows nothing before anything is measured', () => {
    const { container } = render(<ConnectionBadge quality={{ ...good, level: 'unknown' }} />);
    expect(container.innerHTML).toBe('');
    render(<ConnectionBadge quality={null} />);
    expect(screen.queryByTestId('connection-quality')).toBeNull();
  });

  it('speaks Spanish too', async () => {
    await i18n.changeLanguage('es');
    try {
      render(<ConnectionBadge quality={good} />);
      expect(
        screen.getByRole('img', {
          name: 'Buena conexión: pérdida de paquetes 0 %, ida y vuelta 12 ms, 30 fotogramas por segundo, directa',
        }),
      ).toBeTruthy();
      render(<RelayNotice />);
      expect(screen.getByRole('status').textContent).toContain('Tu red bloquea las conexiones directas');
    } finally {
      await i18n.changeLanguage('en');
    }
  });
});
