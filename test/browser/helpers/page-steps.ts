// The steps every browser test takes with the demo page: a fresh context, the status line, and
// the page's own errors.
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Fresh cookies; a step that cannot happen fails in seconds rather than at the test's timeout. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  return context;
}

export const uniqueName = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

/** Waits for the status line to read `expected`; a timeout says what it read instead. */
export async function statusBecomes(page: Page, expected: string | RegExp): Promise<void> {
  const status = page.getByTestId('status');
  try {
    await status.filter({ hasText: expected }).waitFor({ timeout: 10_000 });
  } catch {
    throw new Error(`status never read ${String(expected)}; it reads "${await status.textContent()}"`);
  }
}

/** Uncaught errors of the page and policy violations: the strict CSP must not break anything. */
export function watchForPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (/Content.Security.Policy|Refused to/i.test(message.text())) errors.push(message.text());
  });
  return errors;
}
