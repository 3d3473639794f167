import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

// Debian's package; installing it is the CI script's job (`apt-get install -y chromium`).
const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps trying hosts this closed network refuses.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Headless Chromium for the Swagger UI suites; a missing browser fails the suite, never skips it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: this suite needs it. On Debian: apt-get install -y chromium`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * Opens `url` (a Swagger UI) in a new page of `browser` and waits for its first operation. Every
 * request to a host other than 127.0.0.1 is aborted and recorded in `offMachine` (a CDN, a
 * validator: the suites assert there is none).
 */
export async function openOnMachineOnly(browser: Browser, url: string, offMachine: string[]): Promise<Page> {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    if (new URL(route.request().url()).hostname === '127.0.0.1') return route.continue();
    offMachine.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  // Fail on the step that did not happen, with Playwright's message, before Jest's own timeout.
  page.setDefaultTimeout(10_000);
  await page.goto(url);
  await page.locator('.swagger-ui .opblock').first().waitFor();
  return page;
}
