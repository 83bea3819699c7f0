import { useState } from 'react';
import { api, ok } from '../lib/api.js';
import { useLoad } from '../lib/load.js';
import { join, Link, navigate, usePageParam } from '../lib/router.js';
import { Async, Dialog, Field, formatBytes, formatTime, Pager, parseTags, Tags } from '../lib/ui.js';
import { Preview } from './preview.js';
import type { ProjectCtx } from './project.js';
import { can, type Collection, type Dataset } from './types.js';

const pp = (ctx: ProjectCtx) => ({ slug: ctx.ns.slug, projectSlug: ctx.project.slug });

type Described = { name: string; description: string | null; tags: string[] };

function DescribedForm({ title, submitLabel, initial, onClose, onSave, what }: { title: string; submitLabel: string; initial?: Described; onClose: () => void; onSave: (v: Described) => Promise<void>; what: string }) {
  const [name, setName] = useState(initial?.name ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [tags, setTags] = useState(initial?.tags.join(', ') ?? '');
  return (
    <Dialog title={title} submitLabel={submitLabel} onClose={onClose} onSubmit={() => onSave({ name, description: description || null, tags: parseTags(tags) })}>
      <Field label={`${what} name`} value={name} onChange={setName} required autoFocus />
      <Field label="Description" value={description} onChange={setDescription} multiline />
      <Field label="Tags" value={tags} onChange={setTags} placeholder="comma, separated" />
    </Dialog>
  );
}

export function Datasets({ ctx }: { ctx: ProjectCtx }) {
  const [page, setPage] = usePageParam();
  const [creating, setCreating] = useState(false);
  const writable = can(ctx.ns.role, 'write');
  const list = useLoad(() => ok(api.GET('/namespaces/{slug}/projects/{projectSlug}/datasets', { params: { path: pp(ctx), query: { page, pageSize: 50 } } })), [ctx.project.id, page]);
  return (
    <>
      <div className="toolbar">
        <button type="button" className="primary" disabled={!writable} onClick={() => setCreating(true)}>New dataset</button>
      </div>
      <Async loaded={list} isEmpty={(d) => d.total === 0} empty="No datasets yet.">
        {(d) => (
          <>
            <table>
              <caption className="sr-only">Datasets</caption>
              <thead><tr><th scope="col">Dataset</th><th scope="col">Description</th><th scope="col">Updated</th></tr></thead>
              <tbody>
                {d.datasets.map((s) => (
                  <tr key={s.id}>
                    <td><Link to={`${ctx.base}/datasets/${join(s.name)}`}>{s.name}</Link> <Tags tags={s.tags} /></td>
                    <td>{s.description}</td>
                    <td>{formatTime(s.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager page={d.page} totalPages={d.totalPages} total={d.total} onPage={setPage} />
          </>
        )}
      </Async>
      {creating && (
        <DescribedForm
          title="New dataset"
          submitLabel="Create dataset"
          what="Dataset"
          onClose={() => setCreating(false)}
          onSave={async (v) => {
            const s = await ok(api.POST('/namespaces/{slug}/projects/{projectSlug}/datasets', { params: { path: pp(ctx) }, body: v }));
            navigate(`${ctx.base}/datasets/${join(s.name)}`);
          }}
        />
      )}
    </>
  );
}

export function DatasetPage({ ctx, name }: { ctx: ProjectCtx; name: string }) {
  const [dialog, setDialog] = useState<'edit' | 'delete' | 'attach' | null>(null);
  const writable = can(ctx.ns.role, 'write');
  const params = { path: { ...pp(ctx), name } };
  const dataset = useLoad(() => ok(api.GET('/namespaces/{slug}/projects/{projectSlug}/datasets/{name}', { params })), [ctx.project.id, name]);
  const detach = async (collection: string) => {
    await ok(api.DELETE('/namespaces/{slug}/projects/{projectSlug}/datasets/{name}/collections', { params, body: { remove: [collection] } }));
    dataset.reload();
  };
  return (
    <Async loaded={dataset}>
      {(s: Dataset) => (
        <article>
          <p><Link to={`${ctx.base}/datasets`}>All datasets</Link></p>
          <h2>Dataset {s.name}</h2>
          {s.description && <p>{s.description}</p>}
          <Tags tags={s.tags} />
          <div className="toolbar">
            <button type="button" disabled={!writable} onClick={() => setDialog('attach')}>Add collection to dataset</button>
            <button type="button" disabled={!writable} onClick={() => setDialog('edit')}>Edit dataset</button>
            <button type="button" className="danger" disabled={!writable} onClick={() => setDialog('delete')}>Delete dataset</button>
          </div>
          <h3>Collections</h3>
          {s.collections.length === 0 ? (
            <p className="empty">No collections in this dataset.</p>
          ) : (
            <ul className="cards">
              {s.collections.map((c) => (
                <li key={c.id}>
                  <Link to={`${ctx.base}/collections/${join(c.name)}`}>{c.name}</Link> · {c.members.length} members{' '}
                  <button type="button" disabled={!writable} onClick={() => void detach(c.name)} aria-label={`Remove ${c.name} from the dataset`}>Remove</button>
                </li>
              ))}
            </ul>
          )}
          {dialog === 'edit' && (
            <DescribedForm
              title={`Edit ${s.name}`}
              submitLabel="Save dataset"
              what="Dataset"
              initial={s}
              onClose={() => setDialog(null)}
              onSave={async (v) => {
                const next = await ok(api.PATCH('/namespaces/{slug}/projects/{projectSlug}/datasets/{name}', { params, body: v }));
                if (next.name !== name) navigate(`${ctx.base}/datasets/${join(next.name)}`, true);
                else dataset.reload();
              }}
            />
          )}
          {dialog === 'delete' && (
            <Dialog title={`Delete ${s.name}?`} submitLabel="Delete dataset" danger onClose={() => setDialog(null)} onSubmit={async () => {
              await ok(api.DELETE('/namespaces/{slug}/projects/{projectSlug}/datasets/{name}', { params }));
              navigate(`${ctx.base}/datasets`);
            }}>
              <p>The dataset is deleted; its {s.collections.length} collections stay, standalone.</p>
            </Dialog>
          )}
          {dialog === 'attach' && <AttachCollection ctx={ctx} dataset={s.name} onClose={() => setDialog(null)} onDone={dataset.reload} />}
        </article>
      )}
    </Async>
  );
}

function AttachCollection({ ctx, dataset, onClose, onDone }: { ctx: ProjectCtx; dataset: string; onClose: () => void; onDone: () => void }) {
  const [choice, setChoice] = useState('');
  const list = useLoad(() => ok(api.GET('/namespaces/{slug}/projects/{projectSlug}/collections', { params: { path: pp(ctx), query: { pageSize: 200 } } })), []);
  return (
    <Dialog title="Add collection to dataset" submitLabel="Add collection" onClose={onClose} onSubmit={async () => {
      await ok(api.POST('/namespaces/{slug}/projects/{projectSlug}/datasets/{name}/collections', { params: { path: { ...pp(ctx), name: dataset } }, body: { add: [choice] } }));
      onDone();
    }}>
      <div className="field">
        <label htmlFor="attach-collection">Collection</label>
        <select id="attach-collection" value={choice} onChange={(e) => setChoice(e.target.value)} required>
          <option value="">Choose…</option>
          {list.data?.collections.map((c) => <option key={c.id} value={c.name}>{c.name}</option>)}
        </select>
      </div>
    </Dialog>
  );
}

export function Collections({ ctx }: { ctx: ProjectCtx }) {
  const [page, setPage] = usePageParam();
  const [creating, setCreating] = useState(false);
  const writable = can(ctx.ns.role, 'write');
  const list = useLoad(() => ok(api.GET('/namespaces/{slug}/projects/{projectSlug}/collections', { params: { path: pp(ctx), query: { page, pageSize: 50 } } })), [ctx.project.id, page]);
  return (
    <>
      <div className="toolbar">
        <button type="button" className="primary" disabled={!writable} onClick={() => setCreating(true)}>New collection</button>
        <span className="muted small">Select files in the file browser to add them to a collection.</span>
      </div>
      <Async loaded={list} isEmpty={(d) => d.total === 0} empty="No collections yet.">
        {(d) => (
          <>
            <table>
              <caption className="sr-only">Collections</caption>
              <thead><tr><th scope="col">Collection</th><th scope="col">Members</th><th scope="col">Description</th><th scope="col">Updated</th></tr></thead>
              <tbody>
                {d.collections.map((c) => (
                  <tr key={c.id}>
                    <td><Link to={`${ctx.base}/collections/${join(c.name)}`}>{c.name}</Link> <Tags tags={c.tags} /></td>
                    <td>{c.members.length}</td>
                    <td>{c.description}</td>
                    <td>{formatTime(c.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager page={d.page} totalPages={d.totalPages} total={d.total} onPage={setPage} />
          </>
        )}
      </Async>
      {creating && (
        <DescribedForm title="New collection" submitLabel="Create collection" what="Collection" onClose={() => setCreating(false)} onSave={async (v) => {
          const c = await ok(api.POST('/namespaces/{slug}/projects/{projectSlug}/collections', { params: { path: pp(ctx) }, body: v }));
          navigate(`${ctx.base}/collections/${join(c.name)}`);
        }} />
      )}
    </>
  );
}

export function CollectionPage({ ctx, name }: { ctx: ProjectCtx; name: string }) {
  const [dialog, setDialog] = useState<'edit' | 'delete' | null>(null);
  const [previewing, setPreviewing] = useState<string | null>(null);
  const writable = can(ctx.ns.role, 'write');
  const params = { path: { ...pp(ctx), name } };
  const collection = useLoad(() => ok(api.GET('/namespaces/{slug}/projects/{projectSlug}/collections/{name}', { params: { ...params, query: { expand: 'nodes' } } })), [ctx.project.id, name]);
  const remove = async (id: string) => {
    await ok(api.DELETE('/namespaces/{slug}/projects/{projectSlug}/collections/{name}/members', { params, body: { remove: [id] } }));
    collection.reload();
  };
  return (
    <Async loaded={collection}>
      {(c: Collection) => (
        <article>
          <p><Link to={`${ctx.base}/collections`}>All collections</Link></p>
          <h2>Collection {c.name}</h2>
          {c.description && <p>{c.description}</p>}
          <Tags tags={c.tags} />
          <div className="toolbar">
            <button type="button" disabled={!writable} onClick={() => setDialog('edit')}>Edit collection</button>
            <button type="button" className="danger" disabled={!writable} onClick={() => setDialog('delete')}>Delete collection</button>
          </div>
          <h3>Members ({c.members.length})</h3>
          {c.members.length === 0 ? (
            <p className="empty">No members. Select files in the file browser and add them here.</p>
          ) : (
            <table>
              <caption className="sr-only">Members</caption>
              <thead><tr><th scope="col">Path</th><th scope="col">Kind</th><th scope="col">Size</th><th scope="col">Actions</th></tr></thead>
              <tbody>
                {(c.nodes ?? c.members.map((id) => ({ id, path: id, kind: null, size: null, contentType: null }))).map((n) => (
                  <tr key={n.id}>
                    <td>
                      <Link to={`${ctx.base}/nodes/${join(n.id)}`}>{n.path ?? n.id}</Link>
                      {previewing === n.id && <Preview ctx={ctx} node={{ id: n.id, kind: n.kind ?? 'file', contentType: n.contentType, name: n.path ?? n.id }} compact />}
                    </td>
                    <td>{n.kind}</td>
                    <td>{formatBytes(n.size)}</td>
                    <td className="row-actions">
                      <button type="button" onClick={() => setPreviewing(previewing === n.id ? null : n.id)} aria-label={`Preview ${n.path ?? n.id}`} aria-pressed={previewing === n.id}>Preview</button>
                      <button type="button" disabled={!writable} onClick={() => void remove(n.id)} aria-label={`Remove ${n.path ?? n.id} from the collection`}>Remove</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {dialog === 'edit' && (
            <DescribedForm title={`Edit ${c.name}`} submitLabel="Save collection" what="Collection" initial={c} onClose={() => setDialog(null)} onSave={async (v) => {
              const next = await ok(api.PATCH('/namespaces/{slug}/projects/{projectSlug}/collections/{name}', { params, body: v }));
              if (next.name !== name) navigate(`${ctx.base}/collections/${join(next.name)}`, true);
              else collection.reload();
            }} />
          )}
          {dialog === 'delete' && (
            <Dialog title={`Delete ${c.name}?`} submitLabel="Delete collection" danger onClose={() => setDialog(null)} onSubmit={async () => {
              await ok(api.DELETE('/namespaces/{slug}/projects/{projectSlug}/collections/{name}', { params }));
              navigate(`${ctx.base}/collections`);
            }}>
              <p>The collection is deleted; its {c.members.length} member files stay in the project.</p>
            </Dialog>
          )}
        </article>
      )}
    </Async>
  );
}

/** From the file browser: the selected files into an existing collection or a new one. */
export function AddToCollection({ ctx, ids, onClose, onDone }: { ctx: ProjectCtx; ids: string[]; onClose: () => void; onDone: () => void }) {
  const [choice, setChoice] = useState('');
  const [fresh, setFresh] = useState('');
  const list = useLoad(() => ok(api.GET('/namespaces/{slug}/projects/{projectSlug}/collections', { params: { path: pp(ctx), query: { pageSize: 200 } } })), []);
  return (
    <Dialog title={`Add ${ids.length} files to a collection`} submitLabel="Add to collection" onClose={onClose} onSubmit={async () => {
      let name = choice;
      if (!name) {
        if (!fresh.trim()) throw new Error('Choose a collection or name a new one.');
        name = (await ok(api.POST('/namespaces/{slug}/projects/{projectSlug}/collections', { params: { path: pp(ctx) }, body: { name: fresh.trim() } }))).name;
      }
      await ok(api.POST('/namespaces/{slug}/projects/{projectSlug}/collections/{name}/members', { params: { path: { ...pp(ctx), name } }, body: { add: ids } }));
      onDone();
      navigate(`${ctx.base}/collections/${join(name)}`);
    }}>
      <div className="field">
        <label htmlFor="collect-existing">Existing collection</label>
        <select id="collect-existing" value={choice} onChange={(e) => setChoice(e.target.value)}>
          <option value="">A new collection…</option>
          {list.data?.collections.map((c) => <option key={c.id} value={c.name}>{c.name}</option>)}
        </select>
      </div>
      {!choice && <Field label="New collection name" value={fresh} onChange={setFresh} autoFocus />}
    </Dialog>
  );
}
