import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CONSOLE_DIST } from '../../src/console/serve.js';

export const CHROMIUM = process.env.DREAMLAKE_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export function skipReason(): string | null {
  if (!existsSync(CHROMIUM)) return `Skipping the console browser tests: no Chromium at ${CHROMIUM} (apt-get install -y chromium).`;
  if (spawnSync('ffmpeg', ['-version']).status !== 0) return 'Skipping the console browser tests: no ffmpeg to make the test video (apt-get install -y ffmpeg).';
  if (!existsSync(`${CONSOLE_DIST}index.html`)) return 'Skipping the console browser tests: console/dist is not built (npm run build:console).';
  return null;
}

export const SCREENSHOTS = join(process.cwd(), 'test-results', 'console');

/** Debian's Chromium, headless, with a fresh profile (Playwright makes a temporary user-data-dir per launch); never a downloaded browser. */
export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  return { context, page };
}

/** A phone-sized tab (375 × 740 CSS pixels, an iPhone SE's width). */
export async function phonePage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  context.setDefaultTimeout(10_000);
  return { context, page: await context.newPage() };
}

/** How much wider than its window the page is (0 when nothing makes the page scroll sideways). */
export const overflowX = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/** Runs a step; on failure saves a screenshot of every open page under test-results/console/ first. */
export async function step(name: string, pages: () => Page[], body: () => Promise<void>) {
  try {
    await body();
  } catch (err) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    let i = 0;
    for (const page of pages()) {
      const file = join(SCREENSHOTS, `${name.replace(/\W+/g, '-')}-${i++}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.error(`Screenshot of the failure: ${file}`);
    }
    throw err;
  }
}

/** Drops real files and folders on an element, as a user dragging them from a file manager would. */
export async function dropFiles(page: Page, selector: string, paths: string[]) {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  const cdp = await page.context().newCDPSession(page);
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  await cdp.send('Input.dispatchDragEvent', { type: 'dragEnter', x, y, data });
  await cdp.send('Input.dispatchDragEvent', { type: 'dragOver', x, y, data });
  await cdp.send('Input.dispatchDragEvent', { type: 'drop', x, y, data });
  await cdp.detach();
}

/** Listens on a free port of 127.0.0.1 and answers the origin ("http://127.0.0.1:PORT"). */
export async function listen(app: import('fastify').FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}
