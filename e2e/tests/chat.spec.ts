import type { Browser, Locator, Page } from '@playwright/test';
import { newAccount, signUp, type TestAccount } from '../support/accounts.js';
import { E2E_ENV } from '../support/server-env.js';
import { expect, test } from '../support/test.js';

/** Apertium may need a few seconds for a pipeline's first sentence on a loaded machine. */
const TRANSLATED_MS = 30_000;

/** Sign up with Spanish as the preferred language: the interface switches to Spanish. */
async function signUpSpanish(page: Page, account: TestAccount): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password', { exact: true }).fill(account.password);
  await page.getByLabel('Display name').fill(account.displayName);
  await page.getByLabel(/^Viewer/).check();
  await page.getByLabel('Preferred language').selectOption('es');
  // The form switches to the language picked.
  await expect(page.getByRole('heading', { level: 1, name: 'Crea tu cuenta' })).toBeVisible();
  await page.getByRole('button', { name: 'Registrarse' }).click();
  await expect(page.getByRole('link', { name: /^Perfil/ })).toBeVisible();
}

async function newPage(browser: Browser): Promise<Page> {
  return (await browser.newContext()).newPage();
}

const chat = (page: Page) => page.getByTestId('chat');
const messageFrom = (page: Page, author: string): Locator =>
  chat(page).locator(`[data-testid="chat-message"][data-author="${author}"]`);

async function say(page: Page, label: string, text: string): Promise<void> {
  const box = chat(page).getByLabel(label, { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/**
 * Chat in two languages through the UI, translated by the Apertium APy the global setup started:
 * an English streamer in the studio of a live room and a Spanish viewer on its watch page each read
 * the other in their own language, the original a click away; the streamer deletes a message and it
 * goes for both.
 */
test('an English streamer and a Spanish viewer read each other translated; a deleted message goes for both', async ({
  browser,
}) => {
  test.skip(
    process.env[E2E_ENV.translation] !== 'apertium',
    process.env[E2E_ENV.translationSkipped] ?? 'no Apertium APy for this run',
  );
  const streamer = newAccount('streamer', `Sam ${Date.now().toString(36)}`);
  const viewer = newAccount('viewer', `Lucía ${Date.now().toString(36)}`);
  const sam = await newPage(browser);
  const lucia = await newPage(browser);

  await signUp(sam, streamer);
  await sam.goto('/create');
  await sam.getByLabel(/^Live broadcast/).check();
  await sam.getByLabel('Title', { exact: true }).fill(`Chat check ${Date.now()}`);
  await sam.getByRole('button', { name: 'Create room' }).click();
  await expect(sam).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  const roomPath = new URL(sam.url()).pathname;

  await signUpSpanish(lucia, viewer);
  await lucia.goto(roomPath);
  await expect(chat(sam)).toHaveAttribute('data-status', 'ready');
  await expect(chat(lucia)).toHaveAttribute('data-status', 'ready');
  await expect(chat(sam).getByTestId('chat-status')).toContainText('Messages are shown in English');
  await expect(chat(lucia).getByTestId('chat-status')).toContainText('Los mensajes se muestran en español.');

  // English → Spanish: the original shows at once, the translation replaces it.
  const english = 'Hello my friend, the house is big';
  await say(sam, 'Message', english);
  await expect(messageFrom(sam, streamer.displayName).getByTestId('chat-text')).toHaveText(english);
  const fromSam = messageFrom(lucia, streamer.displayName);
  await expect(fromSam).toHaveCount(1);
  // The streamer hosts the room: their badge says so (other moderators' say "Moderador").
  await expect(fromSam.getByTestId('chat-author-badge')).toHaveText('Anfitrión');
  await expect(fromSam).toHaveAttribute('data-translation', 'ok', { timeout: TRANSLATED_MS });
  const samText = fromSam.getByTestId('chat-text');
  await expect(samText).not.toHaveText(english);
  await expect(samText).toContainText(/casa/i);
  const translated = (await samText.textContent()) ?? '';
  // "Show original" and back.
  await fromSam.getByRole('button', { name: 'Ver original' }).click();
  await expect(samText).toHaveText(english);
  await fromSam.getByRole('button', { name: 'Ver traducción' }).click();
  await expect(samText).toHaveText(translated);

  // Spanish → English.
  const spanish = 'La casa es grande';
  await say(lucia, 'Mensaje', spanish);
  const fromLucia = messageFrom(sam, viewer.displayName);
  await expect(fromLucia).toHaveAttribute('data-translation', 'ok', { timeout: TRANSLATED_MS });
  const luciaText = fromLucia.getByTestId('chat-text');
  await expect(luciaText).not.toHaveText(spanish);
  await expect(luciaText).toContainText(/house/i);
  await fromLucia.getByRole('button', { name: 'Show original' }).click();
  await expect(luciaText).toHaveText(spanish);

  // The streamer moderates: the message goes for everyone.
  await expect(messageFrom(lucia, viewer.displayName)).toHaveCount(1);
  await fromLucia.getByLabel(`Actions for ${viewer.displayName}'s message`).click();
  await fromLucia.getByRole('button', { name: 'Delete message' }).click();
  await expect(messageFrom(sam, viewer.displayName)).toHaveCount(0);
  await expect(messageFrom(lucia, viewer.displayName)).toHaveCount(0);
  await expect(messageFrom(lucia, streamer.displayName)).toHaveCount(1);

  await sam.context().close();
  await lucia.context().close();
});
