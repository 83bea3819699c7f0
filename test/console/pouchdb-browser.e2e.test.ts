import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, type ScriptTestApp } from '../script/helpers.js';
import { CHROMIUM, launch, listen, newPage, step } from './browser.js';

// The README's "Sync with PouchDB" example, run as written in a real browser: PouchDB's browser build in a page
// of another origin (so CORS is real), a local IndexedDB database, live two-way sync with the key as the Basic-auth
// password in the remote URL.
const skip = existsSync(CHROMIUM) ? null : `Skipping the PouchDB-in-Chromium test: no Chromium at ${CHROMIUM} (apt-get install -y chromium).`;
if (skip) console.log(`\n*** ${skip} ***\n`);

const POUCHDB = readFileSync('node_modules/pouchdb/dist/pouchdb.min.js');

describe.skipIf(skip !== null)('PouchDB in Chromium syncs with the CouchDB endpoint', () => {
  let pages: Server;
  let pageOrigin: string;
  let t: ScriptTestApp;
  let api: string;
  let key: string;
  let browser: Browser;

  beforeAll(async () => {
    // The app's page: PouchDB's browser build, from an origin of its own.
    pages = createServer((req, res) => {
      if (req.url === '/pouchdb.min.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(POUCHDB);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>notes</title><script src="/pouchdb.min.js"></script>');
    });
    await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
    pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    t = await createScriptTestApp('sqlite', { DREAMSCRIPT_CORS_ORIGINS: pageOrigin, DREAMSCRIPT_RATE_LIMIT: '0' });
    api = await listen(t.app);
    key = await t.key();
    browser = await launch();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    t?.app.server.closeAllConnections();
    await t?.close();
    pages?.closeAllConnections();
    await new Promise((r) => pages?.close(r));
  });

  it('runs the README example: a local write goes up, a server write comes down, live', async () => {
    const { page } = await newPage(browser);
    await step('pouchdb-sync', () => [page], async () => {
      await page.goto(pageOrigin);
      const remoteUrl = `${api.replace('http://', `http://any:${encodeURIComponent(key)}@`)}/dreamscript/couch/notes`;
      // The README's ten lines, with render() collecting what the page would show.
      await page.evaluate(async (url) => {
        const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        const PouchDB = w.PouchDB;
        w.rendered = [];
        w.directions = [];
        const render = (doc: { _id: string }) => w.rendered.push(doc._id);
        const local = new PouchDB('notes');
        const remote = new PouchDB(url);
        w.local = local;
        await local.put({ _id: 'todo-1', title: 'Buy milk', done: false });
        local
          .sync(remote, { live: true, retry: true })
          .on('change', (info: { direction: string }) => w.directions.push(info.direction))
          .on('error', (err: Error) => w.directions.push(`error: ${err}`));
        local.changes({ live: true, since: 'now', include_docs: true }).on('change', (c: { doc: { _id: string } }) => render(c.doc));
      }, remoteUrl);

      // Up: the browser's document reaches the server (a database made by PouchDB's own PUT, through CORS).
      const couch = (path: string, init: RequestInit = {}) => fetch(`${api}/dreamscript/couch/notes${path}`, { ...init, headers: { 'x-api-key': key, 'content-type': 'application/json', ...init.headers } });
      await expect.poll(async () => (await couch('/todo-1')).status, { timeout: 15_000 }).toBe(200);
      expect(await (await couch('/todo-1')).json()).toMatchObject({ _id: 'todo-1', title: 'Buy milk', done: false });

      // Down: a write on the server reaches the open page on its own, live.
      expect((await couch('/todo-2', { method: 'PUT', body: JSON.stringify({ title: 'Call Ann', done: true }) })).status).toBe(201);
      await page.waitForFunction(() => (window as unknown as { rendered: string[] }).rendered.includes('todo-2'), undefined, { timeout: 15_000 });
      const stored = await page.evaluate(async () => (await (window as unknown as { local: { get(id: string): Promise<unknown> } }).local.get('todo-2')) as { title: string });
      expect(stored).toMatchObject({ title: 'Call Ann', done: true });
      const directions = await page.evaluate(() => (window as unknown as { directions: string[] }).directions);
      expect(directions).toContain('push');
      expect(directions).toContain('pull');
      expect(directions.filter((d) => d.startsWith('error'))).toEqual([]);
    });
  }, 60_000);
});
