import { expect, type Page } from '@playwright/test';

/**
 * From a signed-in page: create a live room with this title (the create form's other fields as they are), open
 * its studio, wait for the camera preview and go live. Resolves with the room's URL once the room is live.
 */
export async function goLiveInNewRoom(
  page: Page,
  title: string,
  before?: (page: Page) => Promise<void>,
): Promise<string> {
  await page.getByRole('link', { name: 'Create room' }).click();
  await page.getByLabel(/^Live broadcast/).check();
  await page.getByLabel('Title', { exact: true }).fill(title);
  await before?.(page);
  await page.getByRole('button', { name: 'Create room' }).click();
  await expect(page).toHaveURL(/\/rooms\/[A-Za-z0-9_-]+$/);
  const roomUrl = page.url();
  await expect
    .poll(() => page.getByTestId('studio-preview').evaluate((v: HTMLVideoElement) => v.videoWidth))
    .toBeGreaterThan(0);
  await page.getByTestId('go-live').click();
  await expect(page.getByTestId('room-status')).toHaveText('Live', { timeout: 15_000 });
  return roomUrl;
}
