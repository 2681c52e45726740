import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChannelPage } from '../pages/channel-page';
import { apiError, stubFetch } from '../test-fetch';
import { replayFixture } from '../test-fixtures';

// The channel's owner is u1; each test says who is signed in.
const session = vi.hoisted(() => ({ user: null as { id: string } | null }));
vi.mock('../session/session-context', () => ({ useSession: () => ({ user: session.user, restoring: false }) }));

const CHANNEL = {
  handle: 'ann-lee',
  ownerId: 'u1',
  displayName: 'Ann Lee',
  live: null,
  latestRoom: null,
};
const first = replayFixture({ id: 'rec-first-0001', title: 'Tuesday' });
const second = replayFixture({ id: 'rec-second-001', title: 'Monday', hidden: true });

/** The channel with two replays (the second hidden); `replay` answers PATCH and DELETE of the first. */
function stubChannel(replay: (init?: RequestInit) => { status?: number; body: unknown }) {
  return stubFetch({
    '/api/channels/ann-lee': { body: CHANNEL },
    '/api/replays?owner=u1': { body: { replays: [first, second] } },
    '/api/replays/rec-first-0001': replay,
    '/api/replays/rec-second-001': (init) => ({
      body: { ...second, ...JSON.parse(String(init?.body ?? '{}')) },
    }),
  });
}

/** What the client sent: method and JSON body of every call to `path`. */
function sent(fetch: ReturnType<typeof stubFetch>['fetch'], path: string) {
  return fetch.mock.calls
    .filter(([url]) => url === path)
    .map(([, init]) => ({
      method: init?.method ?? 'GET',
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    }));
}

const renderChannel = () =>
  render(
    <MemoryRouter initialEntries={['/c/ann-lee']}>
      <Routes>
        <Route path="/c/:handle" element={<ChannelPage />} />
      </Routes>
    </MemoryRouter>,
  );

async function card(id: string) {
  await screen.findAllByTestId('replay-card');
  const el = screen.getAllByTestId('replay-card').find((c) => c.getAttribute('data-replay-id') === id);
  if (!el) throw new Error(`no card for ${id}`);
  return within(el);
}

afterEach(() => {
  vi.unstubAllGlobals();
  session.user = null;
});

describe('ReplayManageControls (the owner on their channel page)', () => {
  it('renames a replay inline: checks the title, sends it trimmed and shows the new one', async () => {
    session.user = { id: 'u1' };
    const { fetch } = stubChannel((init) => ({ body: { ...first, ...JSON.parse(String(init?.body)) } }));
    renderChannel();
    const c = await card('rec-first-0001');
    // The controls are a group named after their replay (a screen reader tells which replay they act on).
    const group = c.getByRole('group', { name: 'Manage the replay “Tuesday”' });
    expect(within(group).getByRole('button', { name: 'Delete' })).toBeTruthy();
    fireEvent.click(c.getByRole('button', { name: 'Rename' }));
    const input = c.getByTestId('replay-rename-input') as HTMLInputElement;
    expect(input.value).toBe('Tuesday');

    // Blank (after trimming) is refused here, without asking the server.
    fireEvent.change(input, { target: { value: '   ' } });
    fireEvent.click(c.getByRole('button', { name: 'Save' }));
    expect(c.getByTestId('replay-rename-error').textContent).toBe('The title must be 1–140 characters.');
    expect(sent(fetch, '/api/replays/rec-first-0001')).toEqual([]);

    fireEvent.change(input, { target: { value: '  Tuesday night  ' } });
    fireEvent.click(c.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(c.queryByTestId('replay-rename-input')).toBeNull());
    expect(sent(fetch, '/api/replays/rec-first-0001')).toEqual([{ method: 'PATCH', body: { title: 'Tuesday night' } }]);
    expect(c.getByRole('link', { name: 'Tuesday night' }).getAttribute('href')).toBe('/replays/rec-first-0001');
  });

  it('Cancel leaves the title as it was and sends nothing', async () => {
    session.user = { id: 'u1' };
    const { fetch } = stubChannel(() => ({ body: first }));
    renderChannel();
    const c = await card('rec-first-0001');
    fireEvent.click(c.getByRole('button', { name: 'Rename' }));
    fireEvent.change(c.getByTestId('replay-rename-input'), { target: { value: 'Other' } });
    fireEvent.click(c.getByRole('button', { name: 'Cancel' }));
    expect(c.queryByTestId('replay-rename-input')).toBeNull();
    expect(c.getByRole('link').textContent).toBe('Tuesday');
    expect(sent(fetch, '/api/replays/rec-first-0001')).toEqual([]);
  });

  it('shows hidden replays to the owner with a badge, and hides and shows them', async () => {
    session.user = { id: 'u1' };
    const { fetch } = stubChannel((init) => ({ body: { ...first, ...JSON.parse(String(init?.body)) } }));
    renderChannel();
    const hidden = await card('rec-second-001');
    expect(hidden.getByTestId('replay-hidden-badge').textContent).toBe('Hidden');
    const visible = await card('rec-first-0001');
    expect(visible.queryByTestId('replay-hidden-badge')).toBeNull();

    fireEvent.click(visible.getByRole('button', { name: 'Hide' }));
    expect(await visible.findByTestId('replay-hidden-badge')).toBeTruthy();
    expect(visible.getByRole('button', { name: 'Show' })).toBeTruthy();
    expect(sent(fetch, '/api/replays/rec-first-0001')).toEqual([{ method: 'PATCH', body: { hidden: true } }]);

    fireEvent.click(hidden.getByRole('button', { name: 'Show' }));
    await waitFor(() => expect(hidden.queryByTestId('replay-hidden-badge')).toBeNull());
    expect(hidden.getByRole('button', { name: 'Hide' })).toBeTruthy();
    expect(sent(fetch, '/api/replays/rec-second-001')).toEqual([{ method: 'PATCH', body: { hidden: false } }]);
  });

  it('deletes only after "Delete" in the confirmation; "Keep it" sends nothing', async () => {
    session.user = { id: 'u1' };
    const { fetch } = stubChannel(() => ({ status: 204, body: null }));
    renderChannel();
    const c = await card('rec-first-0001');

    fireEvent.click(c.getByRole('button', { name: 'Delete' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Delete this replay?' }));
    expect(document.activeElement).toBe(dialog.getByRole('button', { name: 'Keep it' }));
    fireEvent.click(dialog.getByRole('button', { name: 'Keep it' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(sent(fetch, '/api/replays/rec-first-0001')).toEqual([]);

    fireEvent.click(c.getByRole('button', { name: 'Delete' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }));
    await waitFor(() =>
      expect(screen.getAllByTestId('replay-card').map((el) => el.getAttribute('data-replay-id'))).toEqual([
        'rec-second-001',
      ]),
    );
    expect(sent(fetch, '/api/replays/rec-first-0001')).toEqual([{ method: 'DELETE', body: undefined }]);
  });

  it("shows the server's error when it refuses (403), and keeps the replay as it was", async () => {
    session.user = { id: 'u1' };
    stubChannel(() => apiError(403, 'forbidden'));
    renderChannel();
    const c = await card('rec-first-0001');
    fireEvent.click(c.getByRole('button', { name: 'Rename' }));
    fireEvent.change(c.getByTestId('replay-rename-input'), { target: { value: 'Mine now' } });
    fireEvent.click(c.getByRole('button', { name: 'Save' }));
    const alert = await c.findByRole('alert');
    expect(alert.getAttribute('data-code')).toBe('forbidden');
    // Still editing, so the title can be tried again; the list has the old one.
    expect((c.getByTestId('replay-rename-input') as HTMLInputElement).value).toBe('Mine now');
    fireEvent.click(c.getByRole('button', { name: 'Cancel' }));
    expect(c.getByRole('link').textContent).toBe('Tuesday');

    fireEvent.click(c.getByRole('button', { name: 'Delete' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }));
    expect((await c.findByRole('alert')).getAttribute('data-code')).toBe('forbidden');
    expect(screen.getAllByTestId('replay-card')).toHaveLength(2);
  });

  it('someone else sees no controls and no hidden replays', async () => {
    session.user = { id: 'u2' };
    const { fetch } = stubChannel(() => ({ body: first }));
    renderChannel();
    const cards = await screen.findAllByTestId('replay-card');
    expect(cards.map((el) => el.getAttribute('data-replay-id'))).toEqual(['rec-first-0001']);
    expect(screen.queryByTestId('replay-manage')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Rename' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
    expect(fetch.mock.calls.every(([, init]) => (init?.method ?? 'GET') === 'GET')).toBe(true);
  });
});
