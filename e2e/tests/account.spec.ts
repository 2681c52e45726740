import { newAccount, profileLink, signIn, signOut, signUp } from '../support/accounts.js';
import { resetLinkTo } from '../support/mailbox.js';
import { E2E_ENV } from '../support/server-env.js';
import { expect, test } from '../support/test.js';

const mailDir = () => process.env[E2E_ENV.mailDir]!;
const ADMIN = 'admin@fusionflow.test';

test('forgot password: the reset link arrives by SMTP and, followed in the browser, sets a new password once', async ({
  page,
}) => {
  const account = newAccount('viewer');
  await signUp(page, account);
  await signOut(page);

  await page.goto('/signin');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Reset your password' })).toBeVisible();
  await page.getByLabel('Email').fill(account.email);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await expect(page.getByTestId('reset-sent')).toContainText(`If an account uses ${account.email}`);

  // The mail the platform sent, as the SMTP server process received it.
  const link = await expect
    .poll(() => resetLinkTo(mailDir(), account.email), { timeout: 15_000 })
    .toBeTruthy()
    .then(() => resetLinkTo(mailDir(), account.email)!);
  await page.goto(link);
  await page.getByLabel(/^New password/).fill('a brand new password');
  await page.getByRole('button', { name: 'Save the new password' }).click();
  await expect(page.getByTestId('reset-done')).toContainText('Your password is changed');
  await signIn(page, { email: account.email, password: 'a brand new password' });
  await signOut(page);

  // The link works once.
  await page.goto(link);
  await page.getByLabel(/^New password/).fill('someone else tries');
  await page.getByRole('button', { name: 'Save the new password' }).click();
  await expect(page.getByRole('alert')).toContainText('This reset link does not work');
});

test('a signed-in user changes their password in the profile', async ({ page }) => {
  const account = newAccount('viewer');
  await signUp(page, account);
  await profileLink(page).click();
  const form = page.getByTestId('change-password');
  await form.getByLabel('Current password').fill('not the password');
  await form.getByLabel(/^New password/).fill('another long password');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByRole('alert')).toContainText('The email or password is wrong.');
  await form.getByLabel('Current password').fill(account.password);
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByRole('status')).toContainText('Your password is changed');
  await signOut(page);
  await signIn(page, { email: account.email, password: 'another long password' });
});

test('an admin makes a reset link in the console and hands it over; followed, it sets a new password once', async ({
  browser,
  page,
}) => {
  const account = newAccount('viewer');
  await signUp(page, account);
  await signOut(page);

  const admin = await (await browser.newContext()).newPage();
  const password = process.env[E2E_ENV.demoPassword];
  expect(password, 'the demo admin password from the start-up banner').toBeTruthy();
  await signIn(admin, { email: ADMIN, password: password! });
  await admin.goto('/admin');
  await admin.getByLabel('Search by name or email').fill(account.email);
  await admin.getByRole('button', { name: 'Search' }).click();
  await admin.getByTestId('user-results').getByRole('button', { name: account.displayName }).click();
  const detail = admin.getByTestId('user-detail');
  await detail.getByRole('button', { name: 'Make a password reset link' }).click();
  await expect(detail.getByTestId('reset-link-note')).toContainText('Single-use link, valid until');
  const copy = detail.getByTestId('copy-reset-link');
  await expect(copy).toHaveAttribute('data-url', /\/reset-password#token=/);
  const link = (await copy.getAttribute('data-url'))!;
  await admin.context().close();

  // The account holder opens the link they were handed.
  await page.goto(link);
  await page.getByLabel(/^New password/).fill('handed over by the admin');
  await page.getByRole('button', { name: 'Save the new password' }).click();
  await expect(page.getByTestId('reset-done')).toContainText('Your password is changed');
  await signIn(page, { email: account.email, password: 'handed over by the admin' });
  await signOut(page);
  await page.goto(link);
  await page.getByLabel(/^New password/).fill('someone else tries');
  await page.getByRole('button', { name: 'Save the new password' }).click();
  await expect(page.getByRole('alert')).toContainText('This reset link does not work');
});
