import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../helpers/app.js';

export type Headers = Record<string, string>;

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
export const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');
/** The hash the original clients announce: the first 16 hex digits of the sha256. */
export const hash16 = (data: Buffer | string) => sha256(data).slice(0, 16);

/** The path and query of an absolute URL, to drive it with app.inject. */
export const local = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

export function expectOk(res: LightMyRequestResponse, status = 200) {
  if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
  return res.json();
}

/** Slices `content` into parts of `partSize` (one empty part for empty content, as the CLI sends). */
export function split(content: Buffer, partSize: number): Buffer[] {
  if (!content.length) return [Buffer.alloc(0)];
  const parts: Buffer[] = [];
  for (let i = 0; i < content.length; i += partSize) parts.push(content.subarray(i, i + partSize));
  return parts;
}

export interface Started {
  uploadId: string;
  key: string;
}

export async function init(t: TestApp, headers: Headers, content: Buffer, target = { owner: 'alice', project: 'lab' }, hash = hash16(content)) {
  const res = await t.inject({
    method: 'POST',
    url: '/files/upload/multipart/init',
    headers,
    payload: { ...target, hash, contentType: 'video/mp4' },
  });
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`init answered ${res.statusCode}: ${res.body}`);
  const { uploadId, key } = res.json() as Started;
  return { uploadId, key };
}

export async function partUrls(t: TestApp, headers: Headers, up: Started, partNumbers: number[]): Promise<Record<string, string>> {
  return expectOk(await t.inject({ method: 'POST', url: '/files/upload/multipart/parts', headers, payload: { ...up, partNumbers } })).parts;
}

/** PUTs a part as the CLI does: no Authorization header, the file's type as Content-Type. */
export function putPart(t: TestApp, url: string, bytes: Buffer) {
  return t.inject({ method: 'PUT', url: local(url), headers: { 'content-type': 'video/mp4' }, payload: bytes });
}

export async function complete(t: TestApp, headers: Headers, up: Started, parts: object[], extra: object = {}) {
  return t.inject({ method: 'POST', url: '/files/upload/multipart/complete', headers, payload: { ...up, parts, ...extra } });
}

/** The whole flow of §5.4 steps 1–5; answers the bssId. */
export async function uploadWhole(t: TestApp, headers: Headers, content: Buffer, partSize: number, name = '/clip.mp4'): Promise<string> {
  const up = await init(t, headers, content);
  const pieces = split(content, partSize);
  const urls = await partUrls(t, headers, up, pieces.map((_, i) => i + 1));
  const parts = await Promise.all(
    pieces.map(async (bytes, i) => {
      const res = await putPart(t, urls[String(i + 1)], bytes);
      if (res.statusCode !== 200) throw new Error(`part ${i + 1}: ${res.statusCode} ${res.body}`);
      return { partNumber: i + 1, etag: String(res.headers.etag).replace(/"/g, '') };
    }),
  );
  expectOk(await complete(t, headers, up, parts));
  const registered = await t.inject({
    method: 'POST',
    url: '/files',
    headers,
    payload: { name, owner: 'alice', project: 'lab', stagingHash: hash16(content), kind: 'video', contentType: 'video/mp4', size: content.length, originalName: name.split('/').pop() },
  });
  return expectOk(registered, 201).id;
}
