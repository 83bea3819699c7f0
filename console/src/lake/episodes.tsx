import { useState } from 'react';
import { api, ok } from '../lib/api.js';
import { useLoad } from '../lib/load.js';
import { Link, usePageParam } from '../lib/router.js';
import { Async, Dialog, Field, formatTime, Pager, parseTags, Tags } from '../lib/ui.js';
import type { ProjectCtx } from './project.js';
import { can, type Episode } from './types.js';

const STATUSES = ['running', 'completed', 'failed', 'archived'] as const;

export function Episodes({ ctx }: { ctx: ProjectCtx }) {
  const [page, setPage] = usePageParam();
  const [editing, setEditing] = useState<Episode | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Episode | null>(null);
  const writable = can(ctx.ns.role, 'write');
  const p = { slug: ctx.ns.slug, projectSlug: ctx.project.slug };
  const list = useLoad(() => ok(api.GET('/namespaces/{slug}/projects/{projectSlug}/episodes', { params: { path: p, query: { page, pageSize: 50 } } })), [ctx.project.id, page]);
  return (
    <>
      <div className="toolbar">
        <button type="button" className="primary" disabled={!writable} onClick={() => setEditing('new')}>New episode</button>
      </div>
      <Async loaded={list} isEmpty={(d) => d.total === 0} empty="No episodes yet.">
        {(d) => (
          <>
            <table>
              <caption className="sr-only">Episodes</caption>
              <thead><tr><th scope="col">Episode</th><th scope="col">Status</th><th scope="col">Folder</th><th scope="col">Updated</th><th scope="col">Actions</th></tr></thead>
              <tbody>
                {d.episodes.map((e) => (
                  <tr key={e.id}>
                    <td><Link to={`${ctx.base}/files${e.path.split('/').map(encodeURIComponent).join('/')}`}>{e.name}</Link> <Tags tags={e.tags} /></td>
                    <td><span className={`badge status-${e.status}`}>{e.status}</span></td>
                    <td>{e.folder}</td>
                    <td>{formatTime(e.updatedAt)}</td>
                    <td className="row-actions">
                      <button type="button" disabled={!writable} onClick={() => setEditing(e)} aria-label={`Edit ${e.name}`}>Edit</button>
                      <button type="button" className="danger" disabled={!writable} onClick={() => setDeleting(e)} aria-label={`Delete ${e.name}`}>Delete</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager page={d.page} totalPages={d.totalPages} total={d.total} onPage={setPage} />
          </>
        )}
      </Async>
      {editing && <EpisodeForm ctx={ctx} episode={editing === 'new' ? null : editing} onClose={() => setEditing(null)} onDone={list.reload} />}
      {deleting && (
        <Dialog title={`Delete ${deleting.name}?`} submitLabel="Delete episode" danger onClose={() => setDeleting(null)} onSubmit={async () => {
          await ok(api.DELETE('/namespaces/{slug}/projects/{projectSlug}/episodes/{name}', { params: { path: { ...p, name: deleting.name } } }));
          list.reload();
        }}>
          <p>The episode and every file inside it are deleted; those files leave every collection.</p>
        </Dialog>
      )}
    </>
  );
}

function EpisodeForm({ ctx, episode, onClose, onDone }: { ctx: ProjectCtx; episode: Episode | null; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState(episode?.name ?? '');
  const [description, setDescription] = useState(episode?.description ?? '');
  const [status, setStatus] = useState<(typeof STATUSES)[number]>((episode?.status as 'running') ?? 'running');
  const [tags, setTags] = useState(episode?.tags.join(', ') ?? '');
  const [folder, setFolder] = useState('/');
  const p = { slug: ctx.ns.slug, projectSlug: ctx.project.slug };
  return (
    <Dialog title={episode ? `Edit ${episode.name}` : 'New episode'} submitLabel={episode ? 'Save episode' : 'Create episode'} onClose={onClose} onSubmit={async () => {
      const body = { name, description: description || null, status, tags: parseTags(tags) };
      if (episode) await ok(api.PATCH('/namespaces/{slug}/projects/{projectSlug}/episodes/{name}', { params: { path: { ...p, name: episode.name } }, body }));
      else await ok(api.POST('/namespaces/{slug}/projects/{projectSlug}/episodes', { params: { path: p }, body: { ...body, ...(folder && folder !== '/' ? { folder } : {}) } }));
      onDone();
    }}>
      <Field label="Episode name" value={name} onChange={setName} required autoFocus />
      {!episode && <Field label="Folder" value={folder} onChange={setFolder} />}
      <div className="field">
        <label htmlFor="episode-status">Status</label>
        <select id="episode-status" value={status} onChange={(e) => setStatus(e.target.value as 'running')}>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </div>
      <Field label="Description" value={description} onChange={setDescription} multiline />
      <Field label="Tags" value={tags} onChange={setTags} placeholder="comma, separated" />
    </Dialog>
  );
}
