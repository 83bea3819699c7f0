import { useEffect, useState } from 'react';
import { api, ok } from '../lib/api.js';
import { useLoad } from '../lib/load.js';
import { Link } from '../lib/router.js';
import { download, mediaSource, readHead, type MediaSource } from '../lib/transfer.js';
import { Async, ErrorBox, formatBytes, formatTime, Tags } from '../lib/ui.js';
import type { ProjectCtx } from './project.js';
import type { LakeNode } from './types.js';

export function NodePage({ ctx, id }: { ctx: ProjectCtx; id: string }) {
  const node = useLoad(() => ok(api.GET('/namespaces/{slug}/projects/{projectSlug}/nodes/{id}', { params: { path: { slug: ctx.ns.slug, projectSlug: ctx.project.slug, id } } })), [id]);
  return (
    <Async loaded={node}>
      {(n) => {
        const parent = n.path.split('/').slice(0, -1).map(encodeURIComponent).join('/');
        return (
          <article className="preview-page">
            <p>
              <Link to={`${ctx.base}/files${parent}`}>Back to {parent ? decodeURIComponent(parent) : 'the project root'}</Link>
            </p>
            <h2>{n.name}</h2>
            <dl className="facts">
              <dt>Path</dt><dd>{n.path}</dd>
              <dt>Kind</dt><dd>{n.kind}</dd>
              {n.leaf && (<><dt>Size</dt><dd>{formatBytes(n.size)}</dd><dt>Content type</dt><dd>{n.contentType}</dd></>)}
              <dt>Modified</dt><dd>{formatTime(n.updatedAt)}</dd>
              {n.tags.length > 0 && (<><dt>Tags</dt><dd><Tags tags={n.tags} /></dd></>)}
            </dl>
            {n.leaf && <DownloadButton ctx={ctx} node={n} />}
            {n.leaf && <Preview ctx={ctx} node={n} />}
          </article>
        );
      }}
    </Async>
  );
}

function DownloadButton({ ctx, node }: { ctx: ProjectCtx; node: LakeNode }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <p>
      <button type="button" onClick={() => download(ctx.ns.slug, ctx.project.slug, node.id, node.name).catch((e: Error) => setError(e.message))}>
        Download {node.name}
      </button>
      {error && <span role="alert" className="error-text"> {error}</span>}
    </p>
  );
}

export function previewKind(node: Pick<LakeNode, 'kind' | 'contentType' | 'name'>): 'video' | 'audio' | 'image' | 'text' | 'csv' | 'json' | null {
  const type = node.contentType ?? '';
  if (node.kind === 'video' || type.startsWith('video/')) return 'video';
  if (node.kind === 'audio' || type.startsWith('audio/')) return 'audio';
  if (node.kind === 'image' || type.startsWith('image/')) return 'image';
  if (type.includes('json') || /\.json$/i.test(node.name)) return 'json';
  if (type.includes('csv') || /\.csv$/i.test(node.name)) return 'csv';
  if (node.kind === 'text' || type.startsWith('text/')) return 'text';
  return null;
}

export function Preview({ ctx, node, compact }: { ctx: ProjectCtx; node: Pick<LakeNode, 'id' | 'kind' | 'contentType' | 'name'>; compact?: boolean }) {
  const kind = previewKind(node);
  if (!kind) return <p className="muted">No preview for this kind of file.</p>;
  if (kind === 'video' || kind === 'audio' || kind === 'image') return <MediaPreview ctx={ctx} node={node} kind={kind} compact={compact} />;
  return <TextPreview ctx={ctx} node={node} kind={kind} compact={compact} />;
}

function MediaPreview({ ctx, node, kind, compact }: { ctx: ProjectCtx; node: Pick<LakeNode, 'id' | 'name'>; kind: 'video' | 'audio' | 'image'; compact?: boolean }) {
  const [source, setSource] = useState<MediaSource | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    let current: MediaSource | null = null;
    let gone = false;
    mediaSource(ctx.ns.slug, ctx.project.slug, node.id).then(
      (s) => {
        if (gone) s.release();
        else setSource((current = s));
      },
      (e: Error) => !gone && setError(e),
    );
    return () => {
      gone = true;
      current?.release();
    };
  }, [ctx.ns.slug, ctx.project.slug, node.id]);
  if (error) return <ErrorBox error={error} />;
  if (!source) return <p role="status" className="muted">Loading preview…</p>;
  const label = `Preview of ${node.name}`;
  if (kind === 'video') return <video className={compact ? 'media compact' : 'media'} src={source.url} controls preload="metadata" aria-label={label} data-via={source.via} />;
  if (kind === 'audio') return <audio src={source.url} controls preload="metadata" aria-label={label} data-via={source.via} />;
  return <img className={compact ? 'media compact' : 'media'} src={source.url} alt={label} />;
}

function TextPreview({ ctx, node, kind, compact }: { ctx: ProjectCtx; node: Pick<LakeNode, 'id' | 'name'>; kind: 'text' | 'csv' | 'json'; compact?: boolean }) {
  const head = useLoad(() => readHead(ctx.ns.slug, ctx.project.slug, node.id, compact ? 4096 : 1024 * 1024), [node.id]);
  return (
    <Async loaded={head}>
      {({ text, truncated }) => (
        <figure className="text-preview">
          <figcaption className="muted small">{truncated ? `The first ${compact ? '4 kB' : '1 MB'} of ${node.name}` : node.name}</figcaption>
          {kind === 'csv' && !compact ? <CsvTable text={text} /> : <pre tabIndex={0} aria-label={`Contents of ${node.name}`}>{kind === 'json' && !truncated ? prettyJson(text) : text}</pre>}
        </figure>
      )}
    </Async>
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function CsvTable({ text }: { text: string }) {
  const rows = text.split(/\r?\n/).filter(Boolean).slice(0, 500).map((line) => line.split(','));
  if (rows.length === 0) return <p className="empty">Empty file.</p>;
  const [head, ...body] = rows;
  return (
    <div className="scroll-x" tabIndex={0} role="region" aria-label="CSV contents">
      <table>
        <thead><tr>{head.map((h, i) => <th key={i} scope="col">{h}</th>)}</tr></thead>
        <tbody>{body.map((r, i) => <tr key={i}>{r.map((c, j) => <td key={j}>{c}</td>)}</tr>)}</tbody>
      </table>
    </div>
  );
}
