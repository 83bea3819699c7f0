// Big files through the dreamlake client (`npm run bench -- bigfiles`): one upload of a big random file with
// `dreamlake upload` (the multipart protocol: signed part URLs, 4 parts at a time) and one `dreamlake download` of it (ranged parts, 4 at a time; a signed URL when the server
// offers one), on the filesystem store and, when DREAMLAKE_TEST_S3_ENDPOINT is set (scripts/s3-swift.sh), on
// Swift's S3 API. Each figure stands next to `cp` of the same file on the same disk (the ceiling), with the
// server's peak RSS. Size: DREAMLAKE_BENCH_BIGFILE_MB (default 1024; the issue's figure is 5120).
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readSync, readFileSync, rmSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { download } from '../src/cli/client/download.js';
import { httpFetch } from '../src/cli/client/http-fetch.js';
import { saveCredentials } from '../src/cli/client/remote.js';
import { upload } from '../src/cli/client/upload.js';
import { startTarget, type BenchTarget, type DialectName } from './lib.js';
import { measureS3Ceiling } from './s3-ceiling.js';

const MB = Number(process.env.DREAMLAKE_BENCH_BIGFILE_MB ?? 1024);
const BYTES = MB * 1024 * 1024;
const RSS_LIMIT_MB = 150;

export async function run(_dialects: DialectName[]): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dreamlake-bigfiles-'));
  try {
    const file = join(work, 'big.bin');
    const fd = openSync(file, 'w');
    const block = randomBytes(8 * 1024 * 1024);
    for (let written = 0; written < BYTES; written += block.length) {
      block.writeUInt32LE(written / block.length, 0); // no two blocks alike (no dedup shortcuts anywhere)
      writeSync(fd, block, 0, Math.min(block.length, BYTES - written));
    }
    fsyncSync(fd);
    closeSync(fd);
    const t0 = Date.now();
    spawnSync('cp', [file, join(work, 'copy.bin')]);
    spawnSync('sync');
    const cpMs = Date.now() - t0;
    rmSync(join(work, 'copy.bin'));
    const rate = (ms: number) => BYTES / 1e6 / (ms / 1000);
    console.log(`${MB} MiB file; cp on the same disk: ${rate(cpMs).toFixed(0)} MB/s (the ceiling)`);
    const sha256Ms = digestMs(file, 'sha256');
    const md5Ms = digestMs(file, 'md5');
    // The protocol's hashes run one after another, whatever the bytes cost to move: the client's sha256 before
    // init, the part ETags (MD5) as the parts arrive, the server's own sha256 of the assembled file on complete.
    const hashPathMs = 2 * sha256Ms + md5Ms;
    console.log(
      `hashing alone (one core, from the page cache): sha256 ${rate(sha256Ms).toFixed(0)} MB/s, md5 ${rate(md5Ms).toFixed(0)} MB/s; ` +
        `an upload's hashes in sequence (client sha256 → part MD5s → server sha256) cap it at ${rate(hashPathMs).toFixed(0)} MB/s ` +
        `(${((100 * rate(hashPathMs)) / rate(cpMs)).toFixed(0)}% of cp) before a byte is moved`,
    );

    const stores: [string, NodeJS.ProcessEnv][] = [['fs', {}]];
    if (process.env.DREAMLAKE_TEST_S3_ENDPOINT) {
      stores.push([
        's3 (Swift)',
        {
          DREAMLAKE_STORAGE_BACKEND: 's3',
          DREAMLAKE_S3_ENDPOINT: process.env.DREAMLAKE_TEST_S3_ENDPOINT,
          DREAMLAKE_S3_BUCKET: process.env.DREAMLAKE_TEST_S3_BUCKET ?? 'dreamlake-test',
          DREAMLAKE_S3_PREFIX: `bench-${Date.now().toString(36)}/`,
          DREAMLAKE_S3_ACCESS_KEY_ID: process.env.DREAMLAKE_TEST_S3_ACCESS_KEY_ID ?? 'test:tester',
          DREAMLAKE_S3_SECRET_ACCESS_KEY: process.env.DREAMLAKE_TEST_S3_SECRET_ACCESS_KEY ?? 'testing',
        },
      ]);
      const c = await measureS3Ceiling(file, BYTES, process.env);
      console.log(
        `Swift's own S3 API, without DreamLake (its ceiling): 10 MiB parts PUT 4 at a time ${rate(c.putMs).toFixed(0)} MB/s, ` +
          `CompleteMultipartUpload ${(c.completeMs / 1000).toFixed(1)} s, one GET ${rate(c.getMs).toFixed(0)} MB/s, 4 ranged GETs ${rate(c.rangedGetMs).toFixed(0)} MB/s, ` +
          `CopyObject ${rate(c.copyMs).toFixed(0)} MB/s, 4 UploadPartCopy ${rate(c.partCopyMs).toFixed(0)} MB/s`,
      );
    } else {
      console.log('(S3 skipped: run `eval "$(scripts/s3-swift.sh start)"` to include Swift)');
    }

    for (const [name, storeEnv] of stores) {
      const target = await startTarget('sqlite', storeEnv);
      try {
        const env = { XDG_CONFIG_HOME: join(work, `config-${name.replace(/\W+/g, '')}`) };
        await saveCredentials({ server: target.url, token: await target.token('bench') }, env);
        const auth = { authorization: `Bearer ${await target.token('bench')}`, 'content-type': 'application/json' };
        await fetch(`${target.url}/namespaces/bench/projects`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'Lab' }) });
        const quiet = { write: () => true, isTTY: false };
        const log = () => {};
        const before = peakRssMb(target);
        let t = Date.now();
        const timed = timedFetch();
        await upload(file, 'bench/lab/big', { env, out: quiet, log, fetch: timed.fetch });
        const upMs = Date.now() - t;
        const completeMs = timed.ms('/multipart/complete');
        const initAt = timed.firstAt('/multipart/init') - t;
        const afterUp = peakRssMb(target);
        t = Date.now();
        await download('bench/lab/big/big.bin', join(work, 'back.bin'), { env, out: quiet, log });
        const downMs = Date.now() - t;
        const afterDown = peakRssMb(target);
        rmSync(join(work, 'back.bin'));
        const line = (what: string, ms: number, rss: number) =>
          `${name.padEnd(11)} ${what.padEnd(34)} ${rate(ms).toFixed(0).padStart(6)} MB/s (${((100 * rate(ms)) / rate(cpMs)).toFixed(0)}% of cp)  server peak RSS ${rss} MB${rss < RSS_LIMIT_MB ? '' : ` (OVER ${RSS_LIMIT_MB} MB)`}`;
        console.log(line(`dreamlake upload ${MB} MiB`, upMs, afterUp));
        console.log(`${''.padEnd(12)}↳ client hash before init ${(initAt / 1000).toFixed(1)} s; complete ${(completeMs / 1000).toFixed(1)} s`);
        console.log(line(`dreamlake download ${MB} MiB (4 parts)`, downMs, afterDown));
        console.log(`${''.padEnd(12)}↳ server peak RSS before: ${before} MB`);
      } finally {
        await target.close();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A fetch that records when requests to a path started and how long they took (the phases of an upload). */
function timedFetch() {
  const calls: { url: string; at: number; ms: number }[] = [];
  return {
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const at = Date.now();
      const res = await httpFetch(input, init); // the client's own transport for bytes (not undici's web streams)
      calls.push({ url: String(input instanceof Request ? input.url : input), at, ms: Date.now() - at });
      return res;
    }) as typeof fetch,
    ms: (path: string) => calls.filter((c) => c.url.includes(path)).reduce((sum, c) => sum + c.ms, 0),
    firstAt: (path: string) => Math.min(...calls.filter((c) => c.url.includes(path)).map((c) => c.at)),
  };
}

/** Milliseconds to digest the whole file with `algorithm` in this process (1 MiB reads, as the client hashes). */
function digestMs(file: string, algorithm: 'sha256' | 'md5'): number {
  const hash = createHash(algorithm);
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const fd = openSync(file, 'r');
  const t = performance.now();
  try {
    for (let n; (n = readSync(fd, buffer)) > 0; ) hash.update(buffer.subarray(0, n));
    hash.digest();
  } finally {
    closeSync(fd);
  }
  return performance.now() - t;
}

function peakRssMb(target: BenchTarget): number {
  const status = readFileSync(`/proc/${target.child.pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN) / 1024);
}
