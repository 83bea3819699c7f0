import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, type ScriptTestApp } from '../script/helpers.js';
import { launch, listen, newPage, skipReason, step } from './browser.js';

const skip = skipReason();

describe.skipIf(skip !== null)('console in Chromium: Dreamscript', () => {
  let t: ScriptTestApp;
  let origin: string;
  let browser: Browser;
  let key: string;
  const pages: Page[] = [];

  beforeAll(async () => {
    t = await createScriptTestApp('sqlite');
    origin = await listen(t.app);
    key = await t.key();
    browser = await launch();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('asks for the API key once, then edits a document in two tabs and resolves the conflict', () =>
    step('dreamscript-conflict', () => pages, async () => {
      const { context, page } = await newPage(browser);
      pages.push(page);
      await page.goto(`${origin}/console/script`);
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Use this API key' }).click();
      await page.getByRole('heading', { name: 'Dreamscript projects' }).waitFor();
      await page.getByRole('button', { name: 'New project' }).click();
      await page.getByLabel('Project name').fill('Notes');
      await page.getByRole('button', { name: 'Create project' }).click();
      await page.getByRole('heading', { name: 'Notes' }).waitFor();
      await page.getByRole('button', { name: 'New document' }).click();
      await page.getByLabel('Title').fill('Plan');
      await page.getByLabel('Content').fill('first');
      await page.getByRole('button', { name: 'Create document' }).click();
      await page.getByRole('heading', { name: 'Plan' }).waitFor();
      const url = page.url();

      // The live changes view, in a third tab: it hears both saves.
      const feed = await context.newPage();
      pages.push(feed);
      await feed.goto(`${origin}/console/script/changes`);
      await feed.getByText('Listening for changes').waitFor();
      await feed.waitForTimeout(300);

      // A second tab (same browser: the key is remembered) opens the same revision.
      const other = await context.newPage();
      pages.push(other);
      await other.goto(url);
      await other.getByRole('heading', { name: 'Plan' }).waitFor();

      const editor = page.getByLabel('Document JSON');
      await editor.fill('{ "title": "Plan", "content": ');
      await page.getByText(/^Not valid JSON/).waitFor();
      expect(await page.getByRole('button', { name: 'Save', exact: true }).isDisabled()).toBe(true);
      await editor.fill(JSON.stringify({ title: 'Plan', content: 'from tab one', projectId: null }));
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByRole('status').getByText(/^Saved revision 2-/).waitFor();

      await other.getByLabel('Document JSON').fill(JSON.stringify({ title: 'Plan', content: 'from tab two', projectId: null }));
      await other.getByRole('button', { name: 'Save', exact: true }).click();
      await other.getByRole('heading', { name: /^Conflict/ }).waitFor();
      expect(await other.getByLabel('Their version').textContent()).toContain('from tab one');
      expect(await other.getByLabel('Your version').textContent()).toContain('from tab two');
      await other.getByRole('button', { name: 'Keep my version' }).click();
      await other.getByRole('status').getByText(/^Saved revision 3-/).waitFor();

      const id = Number(url.split('/').pop());
      const stored = await t.call(key, { url: `/documents/${id}` });
      expect(stored.json()).toMatchObject({ content: 'from tab two', _rev: expect.stringMatching(/^3-/) });

      // History and the diff between the last two revisions.
      await other.getByLabel('Differences between the revisions').getByText('from tab one').waitFor();
      expect(await other.locator('.diff .add').allTextContents()).toContainEqual(expect.stringContaining('from tab two'));
      await feed.getByRole('link', { name: `document ${id}` }).first().waitFor();
      expect(await feed.getByRole('list', { name: 'Changes' }).getByRole('listitem').count()).toBeGreaterThanOrEqual(2);
      await context.close();
    }));
});
