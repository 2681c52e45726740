import { newAccount, profileLink, signIn, signOut, signUp } from '../support/accounts.js';
import { expect, test } from '../support/test.js';

test('a streamer signs up, signs out, signs in, creates a live room, goes live and is listed on home', async ({
  page,
  browser,
}) => {
  const streamer = newAccount('streamer', 'Ada Streams');
  const title = `Foundation check ${Date.now()}`;

  await signUp(page, streamer);
  await signOut(page);
  // Signed out for real: a reload does not bring the session back.
  await page.reload();
  await expect(page.getByRole('link', { name: 'Sign in', exact: true })).toBeVisible();
  await expect(profileLink(page)).toHaveCount(0);

  await signIn(page, streamer);
  // The session survives a reload (restored from the refresh cookie).
  await page.reload();
  await expect(profileLink(page)).toBeVisible();

  await page.getByRole('link', { name: 'Create room' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Create a room' })).toBeVisible();
  await page.getByLabel(/^Live broadcast/).check();
  await page.getByLabel('Title', { exact: true }).fill(title);
  await page.getByRole('button', { name: 'Create room' }).click();

  await expect(page).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible();
  await expect(page.getByTestId('room-status')).toHaveText('Starting soon');
  await page.getByRole('button', { name: 'Go live' }).click();
  await expect(page.getByTestId('room-status')).toHaveText('Live');
  await expect(page.getByRole('button', { name: 'Go live' })).toHaveCount(0);
  const roomUrl = page.url();
  await expect(page.getByTestId('copy-room-link')).toHaveText('Copy link');
  await expect(page.getByTestId('copy-room-link')).toHaveAttribute('data-url', roomUrl);

  await page.getByRole('link', { name: 'Home', exact: true }).click();
  const card = page.getByRole('region', { name: 'Live now' }).getByTestId('room-card').filter({ hasText: title });
  await expect(card).toBeVisible();
  await expect(card).toContainText('Hosted by Ada Streams');
  await expect(card).toContainText('Live broadcast');
  await expect(card).toContainText('0 viewers');
  await expect(page.getByRole('region', { name: 'Starting soon' }).getByText(title)).toHaveCount(0);

  // A signed-out visitor sees the live room too and can open it.
  const visitor = await browser.newContext();
  try {
    const visitorPage = await visitor.newPage();
    await visitorPage.goto('/');
    await expect(visitorPage.getByRole('link', { name: 'Sign in', exact: true })).toBeVisible();
    await visitorPage.getByRole('region', { name: 'Live now' }).getByRole('link', { name: title }).click();
    await expect(visitorPage).toHaveURL(roomUrl);
    await expect(visitorPage.getByTestId('room-status')).toHaveText('Live');
    await expect(visitorPage.getByRole('button', { name: 'End room' })).toHaveCount(0);
  } finally {
    await visitor.close();
  }

  // The host ends the room; it leaves "Live now", and its recording is listed among the recent replays.
  await page.goto(roomUrl);
  await page.getByRole('button', { name: 'End room' }).click();
  await page.getByRole('button', { name: 'Yes, end it' }).click();
  await expect(page.getByTestId('room-status')).toHaveText('Ended');
  await page.getByRole('link', { name: 'Home', exact: true }).click();
  const live = page.getByRole('region', { name: 'Live now' });
  await expect(live).toBeVisible();
  await expect(live.getByText(title)).toHaveCount(0);
  // The recording is final a moment after the room ends; the home page lists replays as it loads.
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole('region', { name: 'Recent replays' }).getByRole('link', { name: title })).toBeVisible({
      timeout: 2000,
    });
  }).toPass({ timeout: 30_000 });
});

test('the interface follows the preferred language set in the profile', async ({ page }) => {
  const viewer = newAccount('viewer');
  await signUp(page, viewer);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');

  await profileLink(page).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Profile' })).toBeVisible();
  await page.getByLabel('Preferred language').selectOption('es');
  await page.getByRole('button', { name: 'Save changes' }).click();

  await expect(page.getByRole('status')).toHaveText('Tu perfil se ha guardado.');
  await expect(page.getByRole('heading', { level: 1, name: 'Perfil' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Inicio', exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Cerrar sesión' })).toBeVisible();
  await expect(page.getByLabel('Idioma preferido')).toHaveValue('es');
  await expect(page.locator('html')).toHaveAttribute('lang', 'es');

  // The preference is the account's: it holds after a reload, which restores the session.
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Perfil' })).toBeVisible();
  await page.getByRole('link', { name: 'Inicio', exact: true }).click();
  await expect(page.getByRole('region', { name: 'En directo' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Empiezan pronto' })).toBeVisible();

  // Signed out, the interface follows the browser's language again.
  await page.getByRole('button', { name: 'Cerrar sesión' }).click();
  await expect(page.getByRole('link', { name: 'Sign in', exact: true })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
});

test('forms show the server error message and code', async ({ page }) => {
  const viewer = newAccount('viewer');
  await signUp(page, viewer);
  await signOut(page);

  await page.goto('/signin');
  await page.getByLabel('Email').fill(viewer.email);
  await page.getByLabel('Password', { exact: true }).fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('The email or password is wrong.');
  await expect(alert).toContainText('invalid_credentials');

  await page.goto('/signup');
  await page.getByLabel('Email').fill(viewer.email);
  await page.getByLabel('Password', { exact: true }).fill(viewer.password);
  await page.getByLabel('Display name').fill('Someone else');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('alert')).toContainText('email_taken');
});

test('unknown pages and rooms say so', async ({ page }) => {
  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await page.goto('/rooms/no-such-room');
  await expect(page.getByRole('heading', { level: 1, name: 'This room does not exist.' })).toBeVisible();
});

test('signed-out visitors are sent to sign in, then back to where they were going', async ({ page }) => {
  const streamer = newAccount('streamer');
  await signUp(page, streamer);
  await signOut(page);
  await page.goto('/create');
  await expect(page).toHaveURL(/\/signin$/);
  await page.getByLabel('Email').fill(streamer.email);
  await page.getByLabel('Password', { exact: true }).fill(streamer.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/create$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Create a room' })).toBeVisible();
});
