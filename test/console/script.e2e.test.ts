import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, type ScriptTestApp } from '../script/helpers.js';
import { launch, listen, newPage, overflowX, phonePage, skipReason, step } from './browser.js';

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

  /** A new tab whose browser already keeps `secret` as the Dreamscript API key. */
  const tabWithKey = async (secret: string) => {
    const tab = await newPage(browser);
    pages.push(tab.page);
    await tab.context.addInitScript((k) => localStorage.setItem('dreamlake.scriptKey', k), secret);
    return tab;
  };

  const createDocument = async (title: string) => {
    const res = await t.call(key, { method: 'POST', url: '/documents', payload: { title, content: 'text' } });
    expect(res.statusCode).toBe(201);
    return res.json() as { id: number; _rev: string };
  };

  it('says a page could not load (a chunk that does not arrive, a page that throws) with a Reload button, not a blank app', () =>
    step('dreamscript-load-failure', () => pages, async () => {
      const { context, page } = await tabWithKey(key);
      // The server went away (or was updated) after index.html and its entry script: the lazy route chunks fail.
      const chunks = /\/console\/assets\/(?!index-)[^/]+\.js$/;
      await page.route(chunks, (route) => route.abort('connectionrefused'));
      await page.goto(`${origin}/console/script`);
      const alert = page.getByRole('alert').filter({ hasText: 'Could not load this page' });
      await alert.getByText(/did not arrive/).waitFor();
      await page.getByRole('navigation', { name: 'APIs' }).waitFor();
      await page.unroute(chunks);
      await alert.getByRole('button', { name: 'Reload' }).click();
      await page.getByRole('heading', { name: 'Dreamscript projects' }).waitFor();

      // A render error (here: an answer the page cannot show) is caught the same way.
      const projects = /\/dreamscript\/projects\?/;
      await page.route(projects, (route) =>
        route.fulfill({ json: [{ id: 1, name: { not: 'a string' }, description: null, createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z' }] }),
      );
      await page.reload();
      await alert.getByText(/^The page failed to show: /).waitFor();
      await page.unroute(projects);
      await alert.getByRole('button', { name: 'Reload' }).click();
      await page.getByRole('heading', { name: 'Dreamscript projects' }).waitFor();
      expect(await alert.count()).toBe(0);
      await context.close();
    }));

  it('says so when the server cannot be reached on Save or Delete', () =>
    step('dreamscript-offline', () => pages, async () => {
      const doc = await createDocument('Offline');
      const { context, page } = await tabWithKey(key);
      await page.goto(`${origin}/console/script/documents/${doc.id}`);
      await page.getByRole('heading', { name: 'Offline' }).waitFor();
      // Writes to the document get no answer at all (fetch rejects with "Failed to fetch").
      const documentUrl = new RegExp(`/dreamscript/documents/${doc.id}(\\?|$)`);
      await page.route(documentUrl, (route) => (route.request().method() === 'GET' ? route.continue() : route.abort('connectionrefused')));
      await page.getByLabel('Document JSON').fill(JSON.stringify({ title: 'Offline', content: 'edited', projectId: null }));
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByRole('alert').getByText(/^Could not reach the server/).waitFor();

      await page.getByRole('button', { name: 'Delete document' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete Offline?' });
      await dialog.getByRole('button', { name: 'Delete document' }).click();
      await dialog.getByRole('alert').getByText(/^Could not reach the server/).waitFor();
      expect((await t.call(key, { url: `/documents/${doc.id}` })).json()).toMatchObject({ _rev: doc._rev, content: 'text' });
      await context.close();
    }));

  it('disables what the key may not do (read-only, limited to projects), and says why', () =>
    step('dreamscript-key-rules', () => pages, async () => {
      const project = async (name: string) => (await t.call(key, { method: 'POST', url: '/projects', payload: { name } })).json().id as number;
      const [mine, other] = [await project('Mine'), await project('Other')];
      const res = await t.call(key, { method: 'POST', url: '/documents', payload: { title: 'Read only', content: 'text', projectId: mine } });
      const doc = res.json() as { id: number; _rev: string };
      const disabledWithReason = async (page: Page, name: string, reason: string) => {
        const button = page.getByRole('button', { name, exact: true });
        await button.waitFor();
        await expect.poll(() => button.isDisabled()).toBe(true);
        expect(await button.getAttribute('title')).toBe(reason);
      };

      const reader = await tabWithKey(await t.key({ readOnly: true }));
      await reader.page.goto(`${origin}/console/script/documents/${doc.id}`);
      await reader.page.getByRole('heading', { name: 'Read only' }).waitFor();
      await reader.page.getByRole('note').getByText('This key is read-only').waitFor();
      for (const name of ['Save', 'Delete document']) await disabledWithReason(reader.page, name, 'This API key is read-only.');
      await reader.page.goto(`${origin}/console/script/projects/${mine}`);
      for (const name of ['New document', 'Edit project', 'Delete project']) await disabledWithReason(reader.page, name, 'This API key is read-only.');
      await reader.page.goto(`${origin}/console/script`);
      await disabledWithReason(reader.page, 'New project', 'This API key is read-only.');
      await reader.context.close();

      // A key limited to one project writes its documents but manages no project, and the server's refusal of a
      // move elsewhere is shown as one.
      const scoped = await tabWithKey(await t.key({ projects: [mine] }));
      await scoped.page.goto(`${origin}/console/script/projects/${mine}`);
      await scoped.page.getByRole('note').getByText(`It sees only project ${mine}.`).waitFor();
      expect(await scoped.page.getByRole('button', { name: 'New document' }).isDisabled()).toBe(false);
      for (const name of ['Edit project', 'Delete project']) {
        await disabledWithReason(scoped.page, name, 'This API key is limited to some projects and may not create, rename or delete projects.');
      }
      await scoped.page.goto(`${origin}/console/script/documents`);
      await disabledWithReason(scoped.page, 'New document', 'This API key is limited to some projects: create documents inside one of them.');
      await scoped.page.goto(`${origin}/console/script/documents/${doc.id}`);
      await scoped.page.getByRole('heading', { name: 'Read only' }).waitFor();
      await scoped.page.getByLabel('Document JSON').fill(JSON.stringify({ title: 'Read only', content: 'moved', projectId: other }));
      await scoped.page.getByRole('button', { name: 'Save', exact: true }).click();
      await scoped.page.getByRole('alert').getByText(`Not allowed (HTTP 403): This API key may not access project ${other}.`).waitFor();
      expect((await t.call(key, { url: `/documents/${doc.id}` })).json()).toMatchObject({ _rev: doc._rev, content: 'text', projectId: mine });
      await scoped.context.close();
    }));

  it('answers an ID that is no number without asking the server, and tells a deleted document from a missing one', () =>
    step('dreamscript-ids', () => pages, async () => {
      const { context, page } = await tabWithKey(key);
      const asked: string[] = [];
      page.on('request', (r) => {
        if (/\/dreamscript\/(documents|projects)\/[^/?]/.test(new URL(r.url()).pathname)) asked.push(r.url());
      });
      for (const [path, message] of [['documents/abc', 'Invalid document ID "abc"'], ['documents/1e3', 'Invalid document ID "1e3"'], ['projects/x1', 'Invalid project ID "x1"']]) {
        await page.goto(`${origin}/console/script/${path}`);
        const alert = page.getByRole('alert');
        await alert.getByText('Not found', { exact: true }).waitFor();
        await alert.getByText(message).waitFor();
      }
      expect(asked).toEqual([]);

      const doc = await createDocument('Gone');
      expect((await t.call(key, { method: 'DELETE', url: `/documents/${doc.id}?rev=${doc._rev}` })).statusCode).toBe(200);
      await page.goto(`${origin}/console/script/documents/${doc.id}`);
      await page.getByRole('alert').getByText('Deleted', { exact: true }).waitFor();
      await page.getByText(`Document ${doc.id} was deleted.`).waitFor();

      await page.goto(`${origin}/console/script/documents/999999`);
      await page.getByRole('alert').getByText('Not found', { exact: true }).waitFor();
      await context.close();
    }));

  it('keeps the page of a list in the address: reload, Back and a copied link open the same page', () =>
    step('dreamscript-cursor-pages', () => pages, async () => {
      const project = (await t.call(key, { method: 'POST', url: '/projects', payload: { name: 'Paged' } })).json().id as number;
      for (let i = 0; i < 53; i++) {
        expect((await t.call(key, { method: 'POST', url: '/documents', payload: { title: `Paged ${String(i).padStart(2, '0')}`, projectId: project } })).statusCode).toBe(201);
      }
      const { context, page } = await tabWithKey(key);
      await page.goto(`${origin}/console/script/projects/${project}`);
      const rows = page.getByRole('table', { name: 'Documents' }).getByRole('row');
      await expect.poll(() => rows.count()).toBe(51);
      await page.getByText('Page 1', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Next page' }).click();
      await expect.poll(() => rows.count()).toBe(4);
      await page.getByText('Page 2', { exact: true }).waitFor();
      const second = page.url();
      expect(new URL(second).searchParams.get('cursor')).toBeTruthy();
      const firstOfSecond = await rows.nth(1).textContent();

      await page.reload();
      await expect.poll(() => rows.count()).toBe(4);
      expect(await rows.nth(1).textContent()).toBe(firstOfSecond);
      await page.getByText('Page 2', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Previous page' }).click();
      await expect.poll(() => rows.count()).toBe(51);
      expect(new URL(page.url()).search).toBe('');
      await page.goForward();
      await expect.poll(() => rows.count()).toBe(4);

      // Opened from a copied link, the page is the same; its number is not known, and Previous leads to the first.
      const copied = await tabWithKey(key);
      await copied.page.goto(second);
      const copiedRows = copied.page.getByRole('table', { name: 'Documents' }).getByRole('row');
      await expect.poll(() => copiedRows.count()).toBe(4);
      expect(await copiedRows.nth(1).textContent()).toBe(firstOfSecond);
      await copied.page.getByText('A later page').waitFor();
      await copied.page.getByRole('button', { name: 'Previous page' }).click();
      await expect.poll(() => copiedRows.count()).toBe(51);
      await copied.context.close();
      await context.close();
    }));

  it('fits a phone screen: the editor and the lists are no wider than 375 px', () =>
    step('dreamscript-phone', () => pages, async () => {
      const doc = await createDocument('Phone');
      const phone = await phonePage(browser);
      pages.push(phone.page);
      await phone.context.addInitScript((k) => localStorage.setItem('dreamlake.scriptKey', k), key);
      for (const [path, heading] of [[`documents/${doc.id}`, 'Phone'], ['documents', 'All documents'], ['', 'Dreamscript projects']]) {
        await phone.page.goto(`${origin}/console/script/${path}`);
        await phone.page.getByRole('heading', { name: heading, exact: true }).waitFor();
        expect(await overflowX(phone.page), path).toBe(0);
      }
      await phone.context.close();
    }));

  it('lets an admin key create (secret shown once) and revoke keys; other keys see no such tab', () =>
    step('dreamscript-keys', () => pages, async () => {
      const { context, page } = await tabWithKey(key);
      await page.goto(`${origin}/console/script`);
      await page.getByRole('link', { name: 'API keys' }).click();
      await page.getByRole('heading', { name: 'API keys' }).waitFor();
      await page.getByRole('button', { name: 'New key' }).click();
      const dialog = page.getByRole('dialog', { name: 'New API key' });
      await dialog.getByLabel('Name').fill('from the console');
      await dialog.getByLabel('Read-only').check();
      await dialog.getByRole('button', { name: 'Create key' }).click();
      const secret = (await page.getByLabel('New key secret').textContent())!;
      expect(secret).toMatch(/^ds_[\w-]{32}$/);
      const made = (await t.call(secret, { url: '/key' })).json();
      expect(made).toMatchObject({ name: 'from the console', readOnly: true, admin: false });
      const row = page.getByRole('row', { name: /from the console/ });
      await row.getByText('read only', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Done' }).click();
      expect(await page.getByLabel('New key secret').count()).toBe(0);

      // A refused body says why, and creates nothing.
      await page.getByRole('button', { name: 'New key' }).click();
      await dialog.getByLabel(/Only these projects/).fill('999999');
      await dialog.getByRole('button', { name: 'Create key' }).click();
      await dialog.getByRole('alert').getByText(/Unknown projects: 999999/).waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      await row.getByRole('button', { name: `Revoke key ${made.id}` }).click();
      await page.getByRole('dialog', { name: `Revoke key ${made.id}?` }).getByRole('button', { name: 'Revoke key' }).click();
      await row.waitFor({ state: 'detached' });
      expect((await t.call(secret, { url: '/key' })).statusCode).toBe(401);
      await context.close();

      const plain = await tabWithKey(await t.key({}));
      await plain.page.goto(`${origin}/console/script`);
      await plain.page.getByRole('heading', { name: 'Dreamscript projects' }).waitFor();
      expect(await plain.page.getByRole('link', { name: 'API keys' }).count()).toBe(0);
      await plain.page.goto(`${origin}/console/script/keys`);
      await plain.page.getByRole('alert').getByText('Only an admin API key may manage keys.').waitFor();
      await plain.context.close();
    }));
});
