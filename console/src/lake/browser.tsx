import { useState } from 'react';
import { api, ok } from '../lib/api.js';
import { useLoad } from '../lib/load.js';
import { join, Link, usePageParam, useSearch } from '../lib/router.js';
import { Async, Dialog, Field, formatBytes, formatTime } from '../lib/ui.js';
import type { ProjectCtx } from './project.js';
import { AddToCollection } from './sets.js';
import { can, type LakeNode } from './types.js';
import { Uploader } from './upload.js';

const PAGE_SIZE = 100;
/** The orders offered, as the server's `sort` and `order`: the server sorts the whole folder, page by page. */
const SORTS = {
  folders: { label: 'Folders first, name', sort: 'folders', order: 'asc' },
  name: { label: 'Name', sort: 'name', order: 'asc' },
  kind: { label: 'Kind', sort: 'kind', order: 'asc' },
  size: { label: 'Size (largest first)', sort: 'size', order: 'desc' },
  updatedAt: { label: 'Modified (newest first)', sort: 'updatedAt', order: 'desc' },
} as const;
type SortKey = keyof typeof SORTS;

export function Browser({ ctx, folder }: { ctx: ProjectCtx; folder: string[] }) {
  const slug = ctx.ns.slug;
  const projectSlug = ctx.project.slug;
  const folderPath = `/${folder.join('/')}`;
  // Page and sort live in the URL (?page=&sort=): reload and Back keep them; opening another folder starts over.
  const [search, updateSearch] = useSearch();
  const [page, setPage] = usePageParam();
  const sortParam = search.get('sort') ?? '';
  const sort: SortKey = Object.hasOwn(SORTS, sortParam) ? (sortParam as SortKey) : 'folders';
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [dialog, setDialog] = useState<{ kind: 'folder' } | { kind: 'rename' | 'move' | 'delete'; node: LakeNode } | { kind: 'collect' } | null>(null);
  const writable = can(ctx.ns.role, 'write');
  const params = { path: { slug, projectSlug } };

  const listing = useLoad(async () => {
    const parent = folder.length ? await ok(api.GET('/namespaces/{slug}/projects/{projectSlug}/nodes/lookup', { params: { ...params, query: { path: folderPath } } })) : null;
    const list = await ok(
      api.GET('/namespaces/{slug}/projects/{projectSlug}/nodes', { params: { ...params, query: { page, pageSize: PAGE_SIZE, sort: SORTS[sort].sort, order: SORTS[sort].order, ...(parent ? { parentId: parent.id } : {}) } } }),
    );
    return { parent, ...list };
  }, [slug, projectSlug, folderPath, page, sort]);

  const filesBase = `${ctx.base}/files`;
  const crumbs = [{ to: filesBase, label: ctx.project.slug }, ...folder.map((_, i) => ({ to: `${filesBase}/${join(...folder.slice(0, i + 1))}`, label: folder[i] }))];

  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <div className="browser">
      <nav aria-label="Folder" className="crumbs path">
        <ol>
          {crumbs.map((c, i) => (
            <li key={c.to} aria-current={i === crumbs.length - 1 ? 'location' : undefined}>
              {i === crumbs.length - 1 ? <span>{c.label}</span> : <Link to={c.to}>{c.label}</Link>}
            </li>
          ))}
        </ol>
      </nav>
      <div className="toolbar">
        <button type="button" disabled={!writable} onClick={() => setDialog({ kind: 'folder' })}>New folder</button>
        <button type="button" disabled={!writable || selected.size === 0} onClick={() => setDialog({ kind: 'collect' })}>
          Add {selected.size || ''} selected to collection
        </button>
        <label className="inline">
          Sort by{' '}
          <select value={sort} onChange={(e) => updateSearch({ sort: e.target.value === 'folders' ? null : e.target.value, page: null })}>
            {Object.entries(SORTS).map(([key, s]) => <option key={key} value={key}>{s.label}</option>)}
          </select>
        </label>
      </div>
      {writable ? (
        <Uploader ctx={ctx} folder={folderPath} onUploaded={listing.reload} />
      ) : (
        <p className="muted small">You can read this project; uploading and changes need the write role.</p>
      )}
      <Async loaded={listing} isEmpty={(d) => d.total === 0} empty="This folder is empty.">
        {(d) => (
          <>
            {d.nodes.length === 0 && <p role="status">Page {page} is past the end: this folder has {d.totalPages} page{d.totalPages === 1 ? '' : 's'}.</p>}
            <NodeTable ctx={ctx} nodes={d.nodes} selected={selected} toggle={toggle} writable={writable} onAction={(kind, node) => setDialog({ kind, node })} />
            <nav aria-label="Pages" className="pager">
              <button type="button" onClick={() => setPage(1)} disabled={page <= 1}>First</button>
              <button type="button" onClick={() => setPage(page - 1)} disabled={page <= 1}>Previous</button>
              <label className="inline">
                Page{' '}
                <input type="number" min={1} max={d.totalPages || 1} value={page} onChange={(e) => setPage(Math.min(Math.max(1, Number(e.target.value) || 1), d.totalPages || 1), true)} className="narrow-input" />
              </label>
              <span>of {d.totalPages || 1} · {d.total} items</span>
              <button type="button" onClick={() => setPage(page + 1)} disabled={page >= d.totalPages}>Next</button>
              <button type="button" onClick={() => setPage(d.totalPages)} disabled={page === Math.max(1, d.totalPages)}>Last</button>
            </nav>
          </>
        )}
      </Async>
      {dialog?.kind === 'folder' && <NewFolder ctx={ctx} parent={folderPath} onClose={() => setDialog(null)} onDone={listing.reload} />}
      {dialog?.kind === 'rename' && <Rename ctx={ctx} node={dialog.node} onClose={() => setDialog(null)} onDone={listing.reload} />}
      {dialog?.kind === 'move' && <Move ctx={ctx} node={dialog.node} onClose={() => setDialog(null)} onDone={listing.reload} />}
      {dialog?.kind === 'delete' && <Delete ctx={ctx} node={dialog.node} onClose={() => setDialog(null)} onDone={listing.reload} />}
      {dialog?.kind === 'collect' && <AddToCollection ctx={ctx} ids={[...selected]} onClose={() => setDialog(null)} onDone={() => setSelected(new Set())} />}
    </div>
  );
}

function NodeTable({ ctx, nodes, selected, toggle, writable, onAction }: { ctx: ProjectCtx; nodes: LakeNode[]; selected: Set<string>; toggle: (id: string) => void; writable: boolean; onAction: (kind: 'rename' | 'move' | 'delete', node: LakeNode) => void }) {
  return (
    <table className="files">
      <caption className="sr-only">Folder contents</caption>
      <thead>
        <tr><th scope="col"><span className="sr-only">Select</span></th><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Size</th><th scope="col">Modified</th><th scope="col">Actions</th></tr>
      </thead>
      <tbody>
        {nodes.map((n) => (
          <tr key={n.id} className={selected.has(n.id) ? 'selected' : undefined}>
            <td>{n.kind !== 'folder' && <input type="checkbox" aria-label={`Select ${n.name}`} checked={selected.has(n.id)} onChange={() => toggle(n.id)} />}</td>
            <td>
              <span className={`icon kind-${n.leaf ? 'file' : n.kind}`} aria-hidden="true" />
              {n.leaf ? <Link to={`${ctx.base}/nodes/${join(n.id)}`}>{n.name}</Link> : <Link to={`${ctx.base}/files${n.path.split('/').map(encodeURIComponent).join('/')}`}>{n.name}</Link>}
            </td>
            <td>{n.kind}</td>
            <td>{n.leaf ? formatBytes(n.size) : ''}</td>
            <td>{formatTime(n.updatedAt)}</td>
            <td className="row-actions">
              <button type="button" disabled={!writable} onClick={() => onAction('rename', n)} aria-label={`Rename ${n.name}`}>Rename</button>
              <button type="button" disabled={!writable} onClick={() => onAction('move', n)} aria-label={`Move ${n.name}`}>Move</button>
              <button type="button" className="danger" disabled={!writable} onClick={() => onAction('delete', n)} aria-label={`Delete ${n.name}`}>Delete</button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function NewFolder({ ctx, parent, onClose, onDone }: { ctx: ProjectCtx; parent: string; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState('');
  return (
    <Dialog
      title="New folder"
      submitLabel="Create folder"
      onClose={onClose}
      onSubmit={async () => {
        const path = `${parent.replace(/\/$/, '')}/${name}`;
        await ok(api.POST('/namespaces/{slug}/projects/{projectSlug}/nodes', { params: { path: { slug: ctx.ns.slug, projectSlug: ctx.project.slug } }, body: { path, kind: 'folder' } }));
        onDone();
      }}
    >
      <Field label="Folder name" value={name} onChange={setName} required autoFocus />
    </Dialog>
  );
}

function Rename({ ctx, node, onClose, onDone }: { ctx: ProjectCtx; node: LakeNode; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState(node.name);
  return (
    <Dialog
      title={`Rename ${node.name}`}
      submitLabel="Rename"
      onClose={onClose}
      onSubmit={async () => {
        await ok(api.PATCH('/namespaces/{slug}/projects/{projectSlug}/nodes/{id}', { params: { path: { slug: ctx.ns.slug, projectSlug: ctx.project.slug, id: node.id } }, body: { name } }));
        onDone();
      }}
    >
      <Field label="New name" value={name} onChange={setName} required autoFocus />
    </Dialog>
  );
}

function Move({ ctx, node, onClose, onDone }: { ctx: ProjectCtx; node: LakeNode; onClose: () => void; onDone: () => void }) {
  const [dest, setDest] = useState('/');
  const p = { slug: ctx.ns.slug, projectSlug: ctx.project.slug };
  return (
    <Dialog
      title={`Move ${node.name}`}
      submitLabel="Move"
      onClose={onClose}
      onSubmit={async () => {
        const clean = dest.trim().replace(/\/+$/, '');
        const parentId = clean === '' ? null : (await ok(api.GET('/namespaces/{slug}/projects/{projectSlug}/nodes/lookup', { params: { path: p, query: { path: clean } } }))).id;
        await ok(api.PATCH('/namespaces/{slug}/projects/{projectSlug}/nodes/{id}', { params: { path: { ...p, id: node.id } }, body: { parentId } }));
        onDone();
      }}
    >
      <Field label="Destination folder path" value={dest} onChange={setDest} required autoFocus placeholder="/camera/front" />
    </Dialog>
  );
}

function Delete({ ctx, node, onClose, onDone }: { ctx: ProjectCtx; node: LakeNode; onClose: () => void; onDone: () => void }) {
  const p = { slug: ctx.ns.slug, projectSlug: ctx.project.slug, id: node.id };
  const below = useLoad(
    async () => (node.leaf ? null : (await ok(api.GET('/namespaces/{slug}/projects/{projectSlug}/nodes/{id}/descendants', { params: { path: p, query: { pageSize: 1 } } }))).total),
    [node.id],
  );
  return (
    <Dialog
      title={`Delete ${node.name}?`}
      submitLabel="Delete"
      danger
      onClose={onClose}
      onSubmit={async () => {
        await ok(api.DELETE('/namespaces/{slug}/projects/{projectSlug}/nodes/{id}', { params: { path: p } }));
        onDone();
      }}
    >
      <p>
        {node.leaf
          ? 'This file is deleted and leaves every collection it is in.'
          : below.data === undefined
            ? 'Counting what is inside…'
            : `This ${node.kind} and the ${below.data} ${below.data === 1 ? 'node' : 'nodes'} inside it are deleted; the deleted files leave every collection they are in.`}
      </p>
    </Dialog>
  );
}
