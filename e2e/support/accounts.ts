import { randomUUID } from 'node:crypto';
import { expect, type Page } from '@playwright/test';

export interface TestAccount {
  email: string;
  password: string;
  displayName: string;
  role: 'viewer' | 'streamer';
}

/** A new account's details, unique per call so scenarios never collide. */
export function newAccount(
  role: TestAccount['role'],
  displayName = `${role} ${randomUUID().slice(0, 6)}`,
): TestAccount {
  return { email: `${role}-${randomUUID()}@example.com`, password: 'correct horse battery staple', displayName, role };
}

/** The header's link to the profile, present only while signed in. */
export const profileLink = (page: Page) => page.getByRole('link', { name: /^Profile/ });

/** Sign up through the form (the page is English: the browser's language). */
export async function signUp(page: Page, account: TestAccount): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password', { exact: true }).fill(account.password);
  await page.getByLabel('Display name').fill(account.displayName);
  await page.getByLabel(account.role === 'streamer' ? /^Streamer/ : /^Viewer/).check();
  await page.getByLabel('Preferred language').selectOption('en');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(profileLink(page)).toBeVisible();
}

/** Sign in through the form. */
export async function signIn(page: Page, account: Pick<TestAccount, 'email' | 'password'>): Promise<void> {
  await page.goto('/signin');
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password', { exact: true }).fill(account.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(profileLink(page)).toBeVisible();
}

/** Sign out with the header's button. */
export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('link', { name: 'Sign in', exact: true })).toBeVisible();
}
