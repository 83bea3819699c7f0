import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodesTable } from '../../src/lake/db.js';
import { signToken } from '../../src/core/auth/jwt.js';
import { createTestApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.js';
import { dropFiles, launch, newPage, overflowX, phonePage, skipReason, step } from './browser.js';

const skip = skipReason();
if (skip) console.warn(skip);

// The console in Chromium against a real server (SQLite: the API tests cover PostgreSQL; this is about the UI).
describe.skipIf(skip !== null)('console in Chromium: DreamLake', () => {
  let t: TestApp;
  let origin: string;
  let browser: Browser;
  let page: Page;
  let files: string;
  const pages: Page[] = [];
  const contentStatuses: number[] = [];
  /** Upload traffic the server saw: "METHOD path?query STATUS". */
  const uploadLog: string[] = [];
  const seen = (re: RegExp) => uploadLog.filter((l) => re.test(l));

  const loginLink = async (username: string, path = '') => `${origin}/console/${path}#token=${await signToken(TEST_JWT_SECRET, username, 1)}`;

  beforeAll(async () => {
    // 1 MiB parts, so that a few MB make several parts (the default is 10 MiB).
    t = await createTestApp('sqlite', { DREAMLAKE_PART_SIZE: String(1024 * 1024) });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    t.app.server.prependListener('request', (req, res) => {
      if (/\/nodes\/[^/]+\/content|\/files\/signed\//.test(req.url ?? '')) res.on('finish', () => contentStatuses.push(res.statusCode));
      if (/^\/files(\/|$)|^\/nodes$|\/files\//.test(req.url ?? '')) res.on('finish', () => uploadLog.push(`${req.method} ${req.url} ${res.statusCode}`));
    });
    browser = await launch();
    ({ page } = await newPage(browser));
    pages.push(page);

    files = mkdtempSync(join(tmpdir(), 'dreamlake-e2e-'));
    mkdirSync(join(files, 'scans'));
    writeFileSync(join(files, 'scans', 'notes.txt'), 'hello from the console\n');
    writeFileSync(join(files, 'scans', 'notes-copy.txt'), 'hello from the console\n');
    writeFileSync(join(files, 'scans', 'pose.json'), JSON.stringify({ x: 1, y: [2, 3] }));
    writeFileSync(join(files, 'scans', 'table.csv'), 'a,b\n1,2\n3,4\n');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=4:size=320x240:rate=25', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', join(files, 'clip.mp4')]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    rmSync(files, { recursive: true, force: true });
  });

  it('signs in with a login link and keeps the token out of the address bar', () =>
    step('sign-in', () => pages, async () => {
      await page.goto(await loginLink('alice'));
      await page.getByText('Signed in as').getByText('alice').waitFor();
      expect(page.url()).not.toContain('token=');
      await page.getByRole('heading', { name: 'Namespaces' }).waitFor();
    }));

  it('signs out, and forgets a token the server refuses', () =>
    step('sign-out', () => pages, async () => {
      const other = await newPage(browser);
      pages.push(other.page);
      await other.page.goto(await loginLink('sam'));
      await other.page.getByText('Signed in as').getByText('sam').waitFor();
      await other.page.getByRole('button', { name: 'Sign out' }).click();
      await other.page.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect(await other.page.evaluate(() => localStorage.getItem('dreamlake.token'))).toBeNull();
      await other.page.goto(`${origin}/console/#token=not.a.token`);
      await other.page.getByRole('alert').getByText(/refused the token/).waitFor();
      await other.context.close();
    }));

  it('creates a namespace, a project and a folder', () =>
    step('create', () => pages, async () => {
      await page.getByRole('button', { name: 'New namespace' }).click();
      await page.getByLabel('Slug').fill('lab');
      await page.getByLabel('Name', { exact: true }).fill('The Lab');
      await page.getByRole('button', { name: 'Create namespace' }).click();
      await page.getByRole('heading', { name: 'The Lab' }).waitFor();
      await page.getByRole('button', { name: 'New project' }).click();
      await page.getByLabel('Project name').fill('Robots');
      await page.getByRole('button', { name: 'Create project' }).click();
      await page.getByRole('link', { name: 'Robots' }).click();
      await page.getByRole('heading', { name: 'Robots' }).waitFor();
      await page.getByRole('button', { name: 'New folder' }).click();
      await page.getByLabel('Folder name').fill('runs');
      await page.getByRole('button', { name: 'Create folder' }).click();
      await page.getByRole('link', { name: 'runs' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/console/lake/lab/robots/files');
    }));

  it('uploads a folder of files and an mp4 by drag and drop, with progress', () =>
    step('upload', () => pages, async () => {
      await dropFiles(page, '[data-testid=dropzone]', [join(files, 'scans'), join(files, 'clip.mp4')]);
      await page.getByText(/^Uploaded .* of /).waitFor();
      expect(await page.getByRole('progressbar', { name: 'Overall upload progress' }).getAttribute('value')).toBe(
        await page.getByRole('progressbar', { name: 'Overall upload progress' }).getAttribute('max'),
      );
      await page.getByRole('progressbar', { name: 'Upload of scans/pose.json' }).waitFor();
      // The multipart protocol, not one PUT per file: init, signed part PUTs, complete, register, node; the
      // two identical files are sent once and registered twice.
      await page.getByRole('progressbar', { name: 'Upload of scans/notes-copy.txt' }).waitFor();
      expect(seen(/^PUT \/namespaces\/.*\/files\//)).toEqual([]);
      await expect.poll(() => seen(/^POST \/files\/upload\/multipart\/init /).length).toBe(4);
      await expect.poll(() => seen(/^PUT \/files\/upload\/part\?.* 200$/).length).toBe(4);
      await expect.poll(() => seen(/^POST \/files\/upload\/multipart\/complete 200$/).length).toBe(4);
      await expect.poll(() => seen(/^POST \/files 201$/).length).toBe(5);
      await expect.poll(() => seen(/^POST \/nodes 201$/).length).toBe(5);
      const H = await t.auth('alice');
      const lookup = async (path: string) => (await t.inject({ url: `/nodes/lookup?namespace=lab&project=robots&path=${path}`, headers: H })).json();
      expect((await lookup('/scans/notes-copy.txt')).metadata.sha256).toBe((await lookup('/scans/notes.txt')).metadata.sha256);
      const clip = (await t.inject({ url: '/nodes/lookup?namespace=lab&project=robots&path=/clip.mp4', headers: await t.auth('alice') })).json();
      const clipSha = createHash('sha256').update(readFileSync(join(files, 'clip.mp4'))).digest('hex');
      expect(clip.metadata).toMatchObject({ sha256: clipSha, hash: clipSha.slice(0, 16), contentType: 'video/mp4' });
      await page.getByRole('link', { name: 'clip.mp4' }).waitFor();
      await page.getByRole('link', { name: 'scans' }).click();
      await page.getByRole('link', { name: 'pose.json' }).click();
      await page.getByLabel('Contents of pose.json').getByText('"y": [').waitFor();
      await page.goBack();
      await page.getByRole('link', { name: 'table.csv' }).click();
      await page.getByRole('region', { name: 'CSV contents' }).getByRole('columnheader', { name: 'b' }).waitFor();
    }));

  it('plays the video and seeks, streamed with range requests', () =>
    step('video', () => pages, async () => {
      await page.goto(`${origin}/console/lake/lab/robots/files`);
      await page.getByRole('link', { name: 'clip.mp4' }).click();
      const video = page.getByLabel('Preview of clip.mp4');
      await video.waitFor();
      await page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 1);
      await video.evaluate((v: HTMLVideoElement) => {
        v.muted = true;
        v.currentTime = 2.5;
        return v.play();
      });
      await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 2.6);
      // The <video> loaded the file itself from a signed link (no blob copy), and the server answered ranges.
      expect(await video.getAttribute('data-via')).toBe('signed');
      expect(contentStatuses).toContain(206);
      await page.getByRole('button', { name: 'Download clip.mp4' }).waitFor();
    }));

  it('makes a collection and a dataset from selected files', () =>
    step('collections', () => pages, async () => {
      await page.goto(`${origin}/console/lake/lab/robots/files`);
      await page.getByRole('checkbox', { name: 'Select clip.mp4' }).check();
      await page.getByRole('link', { name: 'scans' }).click();
      await page.getByRole('checkbox', { name: 'Select notes.txt' }).check();
      await page.getByRole('button', { name: /Add 2 selected to collection/ }).click();
      await page.getByLabel('New collection name').fill('clips');
      await page.getByRole('button', { name: 'Add to collection' }).click();
      await page.getByRole('heading', { name: 'Collection clips' }).waitFor();
      await page.getByRole('link', { name: '/clip.mp4' }).waitFor();
      await page.getByRole('button', { name: 'Preview /scans/notes.txt' }).click();
      await page.getByLabel('Contents of /scans/notes.txt').getByText('hello from the console').waitFor();

      await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Datasets' }).click();
      await page.getByRole('button', { name: 'New dataset' }).click();
      await page.getByLabel('Dataset name').fill('driving');
      await page.getByRole('button', { name: 'Create dataset' }).click();
      await page.getByRole('heading', { name: 'Dataset driving' }).waitFor();
      await page.getByRole('button', { name: 'Add collection to dataset' }).click();
      await page.getByLabel('Collection', { exact: true }).selectOption('clips');
      await page.getByRole('button', { name: 'Add collection', exact: true }).click();
      await page.getByRole('link', { name: 'clips' }).waitFor();
      await page.getByText('2 members').waitFor();
    }));

  it('reports a failed upload and cancels a slow one; keyboard alone makes a folder', () =>
    step('upload-failure', () => pages, async () => {
      await page.goto(`${origin}/console/lake/lab/robots/files`);
      // A file where a folder already is: the server refuses (409) and the console says why.
      mkdirSync(join(files, 'clash'));
      writeFileSync(join(files, 'clash', 'runs'), 'not a folder');
      await dropFiles(page, '[data-testid=dropzone]', [join(files, 'clash', 'runs')]);
      await page.getByRole('alert').filter({ hasText: /^Failed: / }).waitFor();

      // Cancel: a 3 MB file on a slow link.
      writeFileSync(join(files, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 100 * 1024 });
      const partSent = page.waitForRequest(/\/files\/upload\/part\?/);
      await dropFiles(page, '[data-testid=dropzone]', [join(files, 'big.bin')]);
      await partSent;
      await page.getByRole('button', { name: 'Cancel upload of big.bin' }).click();
      await page.getByRole('listitem').filter({ hasText: 'big.bin' }).getByText('cancelled').waitFor();
      // Cancel aborts the staged upload on the server too.
      await expect.poll(() => seen(/^DELETE \/files\/upload\/multipart 200$/).length).toBe(1);
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await cdp.detach();
      const lookup = await t.inject({ url: '/namespaces/lab/projects/robots/nodes/lookup?path=/big.bin', headers: await t.auth('alice') });
      expect(lookup.statusCode).toBe(404);

      // Keyboard only: focus "New folder", Enter, type, Enter.
      await page.getByRole('button', { name: 'New folder' }).focus();
      await page.keyboard.press('Enter');
      await page.keyboard.type('by-keyboard');
      await page.keyboard.press('Enter');
      await page.getByRole('link', { name: 'by-keyboard' }).waitFor();
    }));

  it('invites a reader, who sees every write action disabled', () =>
    step('reader', () => pages, async () => {
      // A user exists once they have signed in.
      expect((await t.inject({ url: '/auth/me', headers: await t.auth('rita') })).statusCode).toBe(200);
      await page.goto(`${origin}/console/lake/lab/members`);
      await page.getByRole('button', { name: 'Invite member' }).click();
      await page.getByLabel('Username').fill('rita');
      await page.getByLabel('Role', { exact: true }).selectOption('write');
      await page.getByRole('button', { name: 'Invite', exact: true }).click();
      const role = page.getByRole('combobox', { name: 'Role of rita' });
      await role.waitFor();
      const changed = page.waitForResponse((r) => r.url().endsWith('/members/rita') && r.request().method() === 'PUT');
      await role.selectOption('read');
      expect((await changed).status()).toBe(200);
      const members = (await t.inject({ url: '/namespaces/lab/members', headers: await t.auth('alice') })).json().members;
      expect(members).toContainEqual(expect.objectContaining({ username: 'rita', role: 'read' }));

      const reader = await newPage(browser);
      pages.push(reader.page);
      await reader.page.goto(await loginLink('rita', 'lake/lab/robots/files'));
      await reader.page.getByRole('link', { name: 'clip.mp4' }).waitFor();
      for (const name of ['New folder', 'Rename clip.mp4', 'Move clip.mp4', 'Delete clip.mp4']) {
        expect(await reader.page.getByRole('button', { name }).isDisabled(), name).toBe(true);
      }
      expect(await reader.page.getByTestId('dropzone').count()).toBe(0);
      await reader.page.goto(`${origin}/console/lake/lab/members`);
      expect(await reader.page.getByRole('button', { name: 'Invite member' }).isDisabled()).toBe(true);
      expect(await reader.page.getByRole('combobox', { name: 'Role of alice' }).isDisabled()).toBe(true);
      expect(await reader.page.getByRole('button', { name: 'Remove alice' }).isDisabled()).toBe(true);
      await reader.context.close();
    }));

  it('asks before removing a member', () =>
    step('remove-member', () => pages, async () => {
      const members = async () => (await t.inject({ url: '/namespaces/lab/members', headers: await t.auth('alice') })).json().members.map((m: { username: string }) => m.username);
      expect(await members()).toContain('rita');
      await page.goto(`${origin}/console/lake/lab/members`);
      await page.getByRole('button', { name: 'Remove rita' }).click();
      const dialog = page.getByRole('dialog', { name: 'Remove rita from The Lab?' });
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
      expect(await members()).toContain('rita');
      await page.getByRole('combobox', { name: 'Role of rita' }).waitFor();

      await page.getByRole('button', { name: 'Remove rita' }).click();
      await dialog.getByRole('button', { name: 'Remove member' }).click();
      await page.getByRole('combobox', { name: 'Role of rita' }).waitFor({ state: 'detached' });
      expect(await members()).not.toContain('rita');
    }));

  it('resumes an interrupted upload after a reload: only the missing part is sent again', () =>
    step('upload-resume', () => pages, async () => {
      await page.goto(`${origin}/console/lake/lab/robots/files`);
      // Two parts (1 MiB + 10 kB); part 1 fails on the network, part 2 arrives.
      const bytes = randomBytes(1024 * 1024 + 10_000);
      writeFileSync(join(files, 'resume.bin'), bytes);
      const partOne = /\/files\/upload\/part\?.*partNumber=1(&|$)/;
      await page.route(partOne, (route) => route.abort('connectionreset'));
      await dropFiles(page, '[data-testid=dropzone]', [join(files, 'resume.bin')]);
      await page.getByRole('alert').filter({ hasText: /resume/ }).waitFor();
      await page.unroute(partOne);
      await expect.poll(() => seen(/^PUT \/files\/upload\/part\?.*partNumber=2.* 200$/).length).toBe(1);
      const inits = seen(/^POST \/files\/upload\/multipart\/init /).length;
      const before = uploadLog.length;

      // A reload, then the same file dropped again: parts-done, part 1 only, complete.
      await page.reload();
      await page.getByTestId('dropzone').waitFor();
      await dropFiles(page, '[data-testid=dropzone]', [join(files, 'resume.bin')]);
      await page.getByText(/^Uploaded .* of /).waitFor();
      const after = uploadLog.slice(before);
      expect(after.filter((l) => l.startsWith('GET /files/upload/multipart/parts-done'))).toHaveLength(1);
      await expect.poll(() => seen(/^POST \/files\/upload\/multipart\/init /).length).toBe(inits);
      expect(after.filter((l) => l.startsWith('PUT /files/upload/part'))).toEqual([expect.stringMatching(/partNumber=1&.* 200$/)]);
      const H = await t.auth('alice');
      const node = (await t.inject({ url: '/nodes/lookup?namespace=lab&project=robots&path=/resume.bin', headers: H })).json();
      const content = await t.inject({ url: `/namespaces/lab/projects/robots/nodes/${node.id}/content`, headers: H });
      expect(content.rawPayload.length).toBe(bytes.length);
      expect(createHash('sha256').update(content.rawPayload).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('dreamlake.upload.')))).toEqual([]);
    }));

  it('picks up an upload another client began (init answers 200): only the missing part is sent', () =>
    step('upload-pickup', () => pages, async () => {
      await page.goto(`${origin}/console/lake/lab/robots/files`);
      const bytes = randomBytes(1024 * 1024 + 5_000);
      writeFileSync(join(files, 'pickup.bin'), bytes);
      // Another client (the CLI) starts the upload of the same content and sends part 2 only.
      const H = { ...(await t.auth('alice')), 'content-type': 'application/json' };
      const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
      const init = await t.inject({ method: 'POST', url: '/files/upload/multipart/init', headers: H, payload: { owner: 'lab', project: 'robots', hash, contentType: 'application/octet-stream' } });
      expect(init.statusCode).toBe(201);
      const { uploadId, key } = init.json();
      const urls = (await t.inject({ method: 'POST', url: '/files/upload/multipart/parts', headers: H, payload: { uploadId, key, partNumbers: [2] } })).json().parts;
      const part2 = new URL(urls['2']);
      const put = await t.inject({ method: 'PUT', url: part2.pathname + part2.search, headers: { 'content-type': 'application/octet-stream' }, payload: bytes.subarray(1024 * 1024) });
      expect(put.statusCode).toBe(200);
      const before = uploadLog.length;

      await dropFiles(page, '[data-testid=dropzone]', [join(files, 'pickup.bin')]);
      await page.getByText(/^Uploaded .* of /).waitFor();
      const after = uploadLog.slice(before);
      expect(after.filter((l) => l.startsWith('POST /files/upload/multipart/init'))).toEqual([expect.stringMatching(/ 200$/)]);
      expect(after.filter((l) => l.startsWith('PUT /files/upload/part'))).toEqual([expect.stringMatching(/partNumber=1&.* 200$/)]);
      const node = (await t.inject({ url: '/nodes/lookup?namespace=lab&project=robots&path=/pickup.bin', headers: H })).json();
      expect(node.metadata.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }));

  it("shows an outsider's deep link as not found", () =>
    step('outsider', () => pages, async () => {
      const outsider = await newPage(browser);
      pages.push(outsider.page);
      // Signs in by pasting a token, then opens a deep link into a namespace she is not in.
      await outsider.page.goto(`${origin}/console/`);
      await outsider.page.getByLabel('Token').fill(await signToken(TEST_JWT_SECRET, 'olga', 1));
      await outsider.page.getByRole('button', { name: 'Sign in' }).click();
      await outsider.page.getByText('Signed in as').getByText('olga').waitFor();
      await outsider.page.goto(`${origin}/console/lake/lab/robots/files/scans`);
      await outsider.page.getByRole('alert').getByText('Not found', { exact: true }).waitFor();
      await outsider.context.close();
    }));

  it('keeps the page of every list in the address; a page past the end says so and leads back', () =>
    step('list-pages', () => pages, async () => {
      await page.goto(`${origin}/console/lake/lab?page=3`);
      await page.getByRole('status').getByText('Page 3 is past the end: there is 1 page.').waitFor();
      await page.getByRole('button', { name: 'Last' }).click();
      await page.getByRole('table', { name: 'Projects' }).getByRole('link', { name: 'Robots' }).waitFor();
      expect(new URL(page.url()).search).toBe('');
      expect(await page.getByRole('status').filter({ hasText: 'past the end' }).count()).toBe(0);
      await page.goBack();
      await page.getByRole('status').getByText('Page 3 is past the end').waitFor();
      for (const path of ['lake/lab/members', 'lake/lab/robots/datasets', 'lake/lab/robots/collections', '']) {
        await page.goto(`${origin}/console/${path}?page=2`);
        await page.getByRole('status').getByText('Page 2 is past the end').waitFor();
      }
    }));

  it('fits a phone screen: no page is wider than 375 px; a wide table scrolls inside itself', () =>
    step('phone', () => pages, async () => {
      const phone = await phonePage(browser);
      pages.push(phone.page);
      await phone.page.goto(await loginLink('alice'));
      await phone.page.getByRole('heading', { name: 'Namespaces' }).waitFor();
      expect(await overflowX(phone.page)).toBe(0);
      for (const [path, table] of [['lake/lab/robots/files', 'Folder contents'], ['lake/lab/members', 'Members'], ['lake/lab', 'Projects']]) {
        await phone.page.goto(`${origin}/console/${path}`);
        await phone.page.getByRole('table', { name: table }).waitFor();
        expect(await overflowX(phone.page), path).toBe(0);
      }
      // The file table is wider than a phone: it scrolls sideways inside itself, and stays a table.
      await phone.page.goto(`${origin}/console/lake/lab/robots/files`);
      const files = phone.page.getByRole('table', { name: 'Folder contents' });
      expect(await files.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
      await phone.page.getByRole('button', { name: 'Sign out' }).waitFor({ state: 'visible' });
      expect(await phone.page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
      await phone.context.close();
    }));

  it('pages through a folder of 100,000 files without freezing', () =>
    step('big-folder', () => pages, async () => {
      const H = await t.auth('alice');
      const folder = (await t.inject({ method: 'POST', url: '/namespaces/lab/projects/robots/nodes', headers: H, payload: { path: '/big', kind: 'folder' } })).json();
      // 100,000 rows written straight into the table (the API would take minutes), with the folder's live count.
      const db = t.database.db as unknown as Kysely<{ nodes: NodesTable }>;
      const now = new Date().toISOString();
      const N = 100_000;
      for (let start = 0; start < N; start += 1000) {
        const rows = Array.from({ length: 1000 }, (_, i) => {
          const name = `f${String(start + i).padStart(6, '0')}.bin`;
          return { id: `big${String(start + i).padStart(8, '0')}`, project_id: folder.projectId, parent_id: folder.id, name, path: `/big/${name}`, kind: 'file', leaf: 1, tags: '[]', metadata: null, size: 1, content_type: 'application/octet-stream', sha256: null, description: null, status: null, created_at: now, updated_at: now, deleted_at: null };
        });
        await db.insertInto('nodes').values(rows).execute();
      }
      await db.updateTable('nodes').set({ child_count: N }).where('id', '=', folder.id).execute();

      await page.goto(`${origin}/console/lake/lab/robots/files/big`);
      await page.getByText('of 1000 · 100000 items').waitFor();
      await page.getByRole('link', { name: 'f000099.bin' }).waitFor();
      const started = Date.now();
      await page.getByRole('button', { name: 'Last' }).click();
      await page.getByRole('link', { name: 'f099999.bin' }).waitFor();
      await page.getByLabel('Page', { exact: true }).fill('500');
      await page.getByRole('link', { name: 'f049999.bin' }).waitFor();
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await page.getByRole('table', { name: 'Folder contents' }).getByRole('row').count()).toBe(101);

      // The server sorts the whole folder, not the page shown: the one large file (last by name) comes first by size,
      // and "Name" from page 500 goes back to page 1.
      await db.updateTable('nodes').set({ size: 5000 }).where('id', '=', 'big00099998').execute();
      await page.getByLabel('Sort by').selectOption({ label: 'Size (largest first)' });
      await page.getByLabel('Page', { exact: true }).and(page.locator('[value="1"]')).waitFor();
      const firstRow = page.getByRole('table', { name: 'Folder contents' }).getByRole('row').nth(1);
      await firstRow.getByRole('link', { name: 'f099998.bin' }).waitFor();
      // Page and sort are in the address: a reload keeps them, Back returns to the page before.
      await page.getByRole('button', { name: 'Next' }).click();
      const pageTwo = page.getByLabel('Page', { exact: true }).and(page.locator('[value="2"]'));
      await pageTwo.waitFor();
      expect(new URL(page.url()).search).toBe('?sort=size&page=2');
      await page.reload();
      await pageTwo.waitFor();
      expect(await page.getByLabel('Sort by').inputValue()).toBe('size');
      await page.goBack();
      await firstRow.getByRole('link', { name: 'f099998.bin' }).waitFor();
      await page.goto(`${origin}/console/lake/lab/robots/files/big?page=5000`);
      await page.getByRole('status').getByText('Page 5000 is past the end: this folder has 1000 pages.').waitFor();
      await page.getByRole('button', { name: 'Last' }).click();
      await page.getByRole('link', { name: 'f099999.bin' }).waitFor();
      await page.getByLabel('Sort by').selectOption({ label: 'Size (largest first)' });
      await firstRow.getByRole('link', { name: 'f099998.bin' }).waitFor();
      await page.getByLabel('Sort by').selectOption({ label: 'Name' });
      await firstRow.getByRole('link', { name: 'f000000.bin' }).waitFor();
    }), 60_000);
});
