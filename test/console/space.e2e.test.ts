import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SPACE_TOKEN } from '../../src/core/config.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { launch, listen, newPage, overflowX, phonePage, skipReason, step } from './browser.js';

const skip = skipReason();

describe.skipIf(skip !== null)('console in Chromium: Dreamspace', () => {
  let t: TestApp;
  let origin: string;
  let browser: Browser;
  let dir: string;
  const pages: Page[] = [];
  const H = { 'x-api-key': DEFAULT_SPACE_TOKEN };

  beforeAll(async () => {
    t = await createTestApp('sqlite');
    origin = await listen(t.app);
    browser = await launch();
    dir = mkdtempSync(join(tmpdir(), 'dreamlake-space-e2e-'));
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=0xf4efe1:s=400x300', '-frames:v', '1', join(dir, 'doc.png')]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows users with their wallet, draws stamps on a document, and adds one where the user clicks', () =>
    step('dreamspace-stamps', () => pages, async () => {
      const user = (await t.inject({ method: 'POST', url: '/dreamspace/users', headers: H, payload: { twitch_id: 't-1', name: 'Stamp Collector' } })).json();
      await t.inject({ method: 'POST', url: `/dreamspace/users/${user.user_id}/transactions`, headers: H, payload: { amount: 42, description: 'bits' } });
      const image = readFileSync(join(dir, 'doc.png')).toString('base64');
      const created = await t.inject({
        method: 'POST',
        url: '/dreamspace/documents',
        headers: H,
        payload: { document_data: image, seal: 7, stamps: [{ stamp_type: 'approved', pos_x: 100, pos_y: 50, rotation: 0.5 }] },
      });
      expect(created.statusCode).toBe(200);
      const id = created.json().document_id;

      const { context, page } = await newPage(browser);
      pages.push(page);
      await page.goto(`${origin}/console/space/users`);
      // A wrong token is refused (403), forgotten, and asked for again.
      await page.getByLabel('API token').fill('not-the-token');
      await page.getByRole('button', { name: 'Use this API token' }).click();
      await page.getByRole('alert').getByText(/refused the API token/).waitFor();
      await page.getByLabel('API token').fill(DEFAULT_SPACE_TOKEN);
      await page.getByRole('button', { name: 'Use this API token' }).click();
      const row = page.getByRole('row', { name: /Stamp Collector/ });
      await row.waitFor();
      expect(await row.getByRole('cell').nth(3).textContent()).toBe('42');

      await page.goto(`${origin}/console/space/documents/${id}`);
      const picture = page.getByRole('img', { name: `Document ${id}`, exact: true });
      await picture.waitFor();
      const stamp = page.getByRole('img', { name: 'Stamp approved at 100, 50' });
      await stamp.waitFor();
      // Drawn where it sits: its centre at (100, 50) of the 400×300 image, as displayed.
      const box = (await picture.boundingBox())!;
      const at = (await stamp.boundingBox())!;
      expect(Math.abs(at.x + at.width / 2 - (box.x + (100 / 400) * box.width))).toBeLessThan(3);
      expect(Math.abs(at.y + at.height / 2 - (box.y + (50 / 300) * box.height))).toBeLessThan(3);
      expect(await stamp.evaluate((el) => getComputedStyle(el).transform)).not.toBe('none');

      // Click at (300, 200) in image pixels.
      await picture.click({ position: { x: (300 / 400) * box.width, y: (200 / 300) * box.height } });
      await page.getByLabel('Stamp type').fill('rejected');
      await page.getByRole('button', { name: 'Add stamp', exact: true }).last().click();
      const added = page.getByRole('img', { name: /^Stamp rejected at / });
      await added.waitFor();
      const [x, y] = [Number(await added.getAttribute('data-x')), Number(await added.getAttribute('data-y'))];
      expect(Math.abs(x - 300)).toBeLessThanOrEqual(2);
      expect(Math.abs(y - 200)).toBeLessThanOrEqual(2);
      const stored = (await t.inject({ url: `/dreamspace/documents/${id}/stamps`, headers: H })).json();
      expect(stored).toHaveLength(2);

      await page.goto(`${origin}/console/space/events`);
      await page.getByText('No events match.').waitFor();
      await context.close();
    }));

  it('keeps the event filters in the address: a reload and Back show the same events', () =>
    step('dreamspace-event-filters', () => pages, async () => {
      const user = (await t.inject({ method: 'POST', url: '/dreamspace/users', headers: H, payload: { twitch_id: 't-events', name: 'Raider' } })).json();
      const post = (payload: object) => t.inject({ method: 'POST', url: '/dreamspace/events', headers: H, payload: { user_id: user.user_id, ...payload } });
      expect((await post({ event_type: 'cheer', occurred_at: '2025-06-08T20:14:00Z', amount: 100, message: 'Cheer100' })).statusCode).toBe(200);
      expect((await post({ event_type: 'raid', occurred_at: '2025-06-09T20:15:00Z', viewer_count: 42 })).statusCode).toBe(200);

      const { context, page } = await newPage(browser);
      pages.push(page);
      await context.addInitScript((k) => localStorage.setItem('dreamlake.spaceToken', k), DEFAULT_SPACE_TOKEN);
      await page.goto(`${origin}/console/space/events`);
      const rows = page.getByRole('table', { name: 'Events' }).getByRole('row');
      await expect.poll(() => rows.count()).toBe(3);
      await page.getByLabel('Type').selectOption('raid');
      await expect.poll(() => rows.count()).toBe(2);
      await page.getByRole('cell', { name: 'raid', exact: true }).waitFor();
      expect(new URL(page.url()).searchParams.get('type')).toBe('raid');

      await page.reload();
      await page.getByRole('cell', { name: 'raid', exact: true }).waitFor();
      await expect.poll(() => rows.count()).toBe(2);
      expect(await page.getByLabel('Type').inputValue()).toBe('raid');

      await page.goto(`${origin}/console/space/users`);
      await page.goBack();
      await page.getByRole('cell', { name: 'raid', exact: true }).waitFor();
      expect(await page.getByLabel('Type').inputValue()).toBe('raid');

      // The date filters keep their own names: the page position (?after=) must not take them over.
      await page.getByLabel('Type').selectOption('');
      await expect.poll(() => rows.count()).toBe(3);
      await page.getByLabel('Occurred after').fill('2025-06-09');
      await expect.poll(() => rows.count()).toBe(2);
      await page.getByRole('cell', { name: 'raid', exact: true }).waitFor();
      expect(new URL(page.url()).searchParams.get('from')).toBe('2025-06-09');
      await page.reload();
      expect(await page.getByLabel('Occurred after').inputValue()).toBe('2025-06-09');
      await expect.poll(() => rows.count()).toBe(2);

      // A hand-written address with filters that mean nothing sends none of them (no error).
      await page.goto(`${origin}/console/space/events?type=bogus&user=abc&after=yesterday`);
      await expect.poll(() => rows.count()).toBe(3);
      await context.close();
    }));

  it('keeps the users, transactions and specimens filters in the address too', () =>
    step('dreamspace-list-filters', () => pages, async () => {
      const other = (await t.inject({ method: 'POST', url: '/dreamspace/users', headers: H, payload: { twitch_id: 't-filters', name: 'Filtered One' } })).json();
      expect((await t.inject({ method: 'POST', url: `/dreamspace/users/${other.user_id}/transactions`, headers: H, payload: { amount: 7, description: 'only mine' } })).statusCode).toBe(200);
      const { context, page } = await newPage(browser);
      pages.push(page);
      await context.addInitScript((k) => localStorage.setItem('dreamlake.spaceToken', k), DEFAULT_SPACE_TOKEN);

      await page.goto(`${origin}/console/space/transactions?user=${other.user_id}`);
      const rows = page.getByRole('table', { name: 'Transactions' }).getByRole('row');
      await page.getByRole('cell', { name: 'only mine' }).waitFor();
      await expect.poll(() => rows.count()).toBe(2);
      expect(await page.getByLabel('User ID').inputValue()).toBe(String(other.user_id));
      await page.getByLabel('User ID').fill('');
      await expect.poll(() => rows.count()).toBeGreaterThan(2);
      expect(new URL(page.url()).search).toBe('');

      await page.goto(`${origin}/console/space/users?name=${encodeURIComponent('Filtered One')}`);
      await page.getByRole('table', { name: 'Users' }).getByRole('row', { name: /Filtered One/ }).waitFor();
      expect(await page.getByLabel('Name is').inputValue()).toBe('Filtered One');
      await page.getByLabel('Name is').fill('Nobody by that name');
      await page.getByText('No users.').waitFor();
      await page.reload();
      await page.getByText('No users.').waitFor();

      // The page is in the address too (?after=, the last ID seen); a filter typed afterwards starts from the first page.
      for (let i = 0; i < 50; i++) {
        expect((await t.inject({ method: 'POST', url: '/dreamspace/users', headers: H, payload: { twitch_id: `t-page-${i}`, name: `Pager ${i}` } })).statusCode).toBe(200);
      }
      await page.goto(`${origin}/console/space/users`);
      const userRows = page.getByRole('table', { name: 'Users' }).getByRole('row');
      await expect.poll(() => userRows.count()).toBe(51);
      await page.getByRole('button', { name: 'Next page' }).click();
      await page.getByText('Page 2', { exact: true }).waitFor();
      expect(new URL(page.url()).searchParams.get('after')).toMatch(/^[1-9][0-9]*$/);
      const later = await userRows.nth(1).textContent();
      await page.reload();
      await expect.poll(() => userRows.nth(1).textContent()).toBe(later);
      await page.getByLabel('Name is').fill('Pager 7');
      await expect.poll(() => userRows.count()).toBe(2);
      expect(new URL(page.url()).searchParams.get('after')).toBeNull();

      // Values that mean nothing are not sent: the lists answer as unfiltered.
      await page.goto(`${origin}/console/space/transactions?user=abc`);
      await expect.poll(() => rows.count()).toBeGreaterThan(2);
      await page.goto(`${origin}/console/space/specimens?forgotten=maybe`);
      expect(await page.getByLabel('Forgotten').inputValue()).toBe('');
      await context.close();
    }));

  it('fits a phone screen: users, events and a document are no wider than 375 px', () =>
    step('dreamspace-phone', () => pages, async () => {
      const phone = await phonePage(browser);
      pages.push(phone.page);
      await phone.context.addInitScript((k) => localStorage.setItem('dreamlake.spaceToken', k), DEFAULT_SPACE_TOKEN);
      for (const [path, heading] of [['users', 'Users'], ['events', 'Events'], ['documents/1', 'Document 1']]) {
        await phone.page.goto(`${origin}/console/space/${path}`);
        await phone.page.getByRole('heading', { name: heading, exact: true }).waitFor();
        expect(await overflowX(phone.page), path).toBe(0);
      }
      await phone.context.close();
    }));
});
