// npm run screenshots: docs/img/console-*.png, one page of each API, from a throwaway server with sample data.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { signToken } from '../../src/core/auth/jwt.js';
import { DEFAULT_SPACE_TOKEN, loadConfig } from '../../src/core/config.js';
import { createDatabase } from '../../src/core/db/database.js';
import { createKey } from '../../src/script/keys/repo.js';
import { scriptDb } from '../../src/script/db.js';
import { launch, listen, newPage } from '../../test/console/browser.js';

const secret = 'screenshot-secret-screenshot-secret';
const dir = mkdtempSync(join(tmpdir(), 'dreamlake-shots-'));
const out = new URL('../../docs/img/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
const config = loadConfig({ data: dir }, { DREAMLAKE_JWT_SECRET: secret });
const database = createDatabase(config.databaseUrl);
const app = await buildApp(config, { database, logger: false });
const origin = await listen(app);
const bearer = { authorization: `Bearer ${await signToken(secret, 'alice', 1)}` };
const space = { 'x-api-key': DEFAULT_SPACE_TOKEN };

// DreamLake: a project with folders, an episode and files.
await app.inject({ method: 'POST', url: '/namespaces', headers: bearer, payload: { slug: 'robotics', name: 'Robotics Lab' } });
await app.inject({ method: 'POST', url: '/namespaces/robotics/projects', headers: bearer, payload: { name: 'Warehouse robot', description: 'Front camera and lidar runs' } });
const P = '/namespaces/robotics/projects/warehouse-robot';
for (const path of ['/camera/front', '/camera/rear', '/calibration']) await app.inject({ method: 'POST', url: `${P}/nodes`, headers: bearer, payload: { path, kind: 'folder' } });
await app.inject({ method: 'POST', url: `${P}/episodes`, headers: bearer, payload: { name: 'drive-0412', status: 'completed' } });
execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=25', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(dir, 'clip.mp4')]);
const put = (path: string, body: Buffer | string, type: string) => app.inject({ method: 'PUT', url: `${P}/files/${path}`, headers: { ...bearer, 'content-type': type }, payload: body });
await put('run-0412.mp4', readFileSync(join(dir, 'clip.mp4')), 'video/mp4');
await put('poses.csv', 't,x,y\n0,0,0\n1,0.4,0.1\n', 'text/csv');
await put('README.md', '# Warehouse robot\n', 'text/markdown');
await put('config.json', JSON.stringify({ fps: 25, sensors: ['front', 'lidar'] }), 'application/json');

// Dreamscript: a document with two revisions.
const key = (await createKey(scriptDb(database), { admin: true })).secret;
const sh = { 'x-api-key': key };
const project = (await app.inject({ method: 'POST', url: '/dreamscript/projects', headers: sh, payload: { name: 'Level scripts' } })).json();
const doc = (await app.inject({ method: 'POST', url: '/dreamscript/documents', headers: sh, payload: { title: 'Intro scene', content: 'The door opens.', projectId: project.id } })).json();
await app.inject({ method: 'PUT', url: `/dreamscript/documents/${doc.id}`, headers: sh, payload: { title: 'Intro scene', content: 'The door opens slowly.\nA light flickers.', projectId: project.id } });

// Dreamspace: a document with stamps.
execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=0xf4efe1:s=480x320', '-frames:v', '1', join(dir, 'doc.png')]);
const image = readFileSync(join(dir, 'doc.png')).toString('base64');
const sdoc = (await app.inject({ method: 'POST', url: '/dreamspace/documents', headers: space, payload: { document_data: image, seal: 3, metadata: 'Permit', stamps: [{ stamp_type: 'approved', pos_x: 140, pos_y: 90, rotation: -0.3 }, { stamp_type: 'void', pos_x: 340, pos_y: 220, rotation: 0.4 }] } })).json();

const browser = await launch();
const { page } = await newPage(browser);
await page.setViewportSize({ width: 1100, height: 820 });
await page.goto(`${origin}/console/lake/robotics/warehouse-robot/files#token=${await signToken(secret, 'alice', 1)}`);
await page.getByRole('link', { name: 'run-0412.mp4' }).waitFor();
await page.screenshot({ path: join(out, 'console-dreamlake.png') });
await page.goto(`${origin}/console/script/documents/${doc.id}`);
await page.getByLabel('API key').fill(key);
await page.getByRole('button', { name: 'Use this API key' }).click();
await page.getByLabel('Differences between the revisions').waitFor();
await page.screenshot({ path: join(out, 'console-dreamscript.png') });
await page.goto(`${origin}/console/space/documents/${sdoc.document_id}`);
await page.getByLabel('API token').fill(DEFAULT_SPACE_TOKEN);
await page.getByRole('button', { name: 'Use this API token' }).click();
await page.getByRole('img', { name: /^Stamp void/ }).waitFor();
await page.screenshot({ path: join(out, 'console-dreamspace.png') });
await browser.close();
await app.close();
rmSync(dir, { recursive: true, force: true });
console.log(`Wrote ${out}console-{dreamlake,dreamscript,dreamspace}.png`);
