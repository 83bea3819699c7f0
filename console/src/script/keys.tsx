import { useState } from 'react';
import type { paths } from '../../../client/index.js';
import { api, ok } from '../lib/api.js';
import { Async, Dialog, Field, formatTime, Page } from '../lib/ui.js';
import { projectsLabel, useKeyRules } from './key.js';
import { useCursorPages } from './paging.js';

type Key = paths['/dreamscript/keys']['get']['responses'][200]['content']['application/json'][number];
type Created = paths['/dreamscript/keys']['post']['responses'][201]['content']['application/json'];

/** API keys, for an admin key: live keys (never their secrets), create (the secret is shown once), revoke. */
export function Keys() {
  const { key: current } = useKeyRules();
  const [tick, setTick] = useState(0);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const { loaded, pager } = useCursorPages((cursor) => api.GET('/dreamscript/keys', { params: { query: { limit: 50, cursor } } }), [tick]);
  const reload = () => setTick((t) => t + 1);
  return (
    <Page title="API keys" actions={<button type="button" className="primary" onClick={() => setCreating(true)}>New key</button>}>
      <p className="muted small">Rotate a key by creating the new one, moving clients to it, then revoking the old one: a revoked key stops working at once, on every server.</p>
      {created && (
        <div role="status" className="conflict">
          <strong>Key {created.name ?? created.prefix} created. Copy its secret now: it is not shown again.</strong>
          <p><code aria-label="New key secret">{created.key}</code>{' '}
            <button type="button" onClick={() => void navigator.clipboard?.writeText(created.key)}>Copy</button>{' '}
            <button type="button" onClick={() => setCreated(null)}>Done</button>
          </p>
        </div>
      )}
      <Async loaded={loaded} isEmpty={(d) => d.items.length === 0} empty="No live keys.">
        {(d) => (
          <>
            <table>
              <caption className="sr-only">API keys</caption>
              <thead><tr><th scope="col">ID</th><th scope="col">Name</th><th scope="col">Starts with</th><th scope="col">Sees</th><th scope="col">May</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
              <tbody>
                {d.items.map((k) => (
                  <tr key={k.id}>
                    <td>{k.id}</td>
                    <td>{k.name ?? '—'}{k.id === current?.id && <span className="badge"> this browser</span>}</td>
                    <td><code>{k.prefix}…</code></td>
                    <td>{k.projects ? projectsLabel(k.projects) : 'every project'}</td>
                    <td>{k.admin ? 'read, write and manage keys' : k.readOnly ? 'read only' : 'read and write'}</td>
                    <td>{formatTime(k.createdAt)}</td>
                    <td className="row-actions"><button type="button" className="danger" onClick={() => setRevoking(k)} aria-label={`Revoke key ${k.id}`}>Revoke</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
            {pager}
          </>
        )}
      </Async>
      {creating && <NewKey onClose={() => setCreating(false)} onDone={(k) => { setCreated(k); reload(); }} />}
      {revoking && (
        <Dialog title={`Revoke key ${revoking.id}?`} submitLabel="Revoke key" danger onClose={() => setRevoking(null)} onSubmit={async () => {
          await ok(api.DELETE('/dreamscript/keys/{keyId}', { params: { path: { keyId: revoking.id } } }));
          reload();
        }}>
          <p>Clients using {revoking.name ?? `the key starting ${revoking.prefix}`} are refused from now on.</p>
          {revoking.id === current?.id && <p className="error-text">This is the key this browser uses: the console will ask for another one.</p>}
        </Dialog>
      )}
    </Page>
  );
}

function NewKey({ onClose, onDone }: { onClose: () => void; onDone: (created: Created) => void }) {
  const [name, setName] = useState('');
  const [projects, setProjects] = useState('');
  const [readOnly, setReadOnly] = useState(false);
  const [admin, setAdmin] = useState(false);
  return (
    <Dialog title="New API key" submitLabel="Create key" onClose={onClose} onSubmit={async () => {
      const ids = projects.split(/[\s,]+/).filter(Boolean);
      if (ids.some((id) => !/^[1-9][0-9]{0,15}$/.test(id))) throw new Error('Projects: give project IDs (whole numbers), separated by commas.');
      const body = { ...(name && { name }), ...(ids.length && { projects: ids.map(Number) }), ...(readOnly && { readOnly }), ...(admin && { admin }) };
      onDone(await ok(api.POST('/dreamscript/keys', { body })));
    }}>
      <Field label="Name" value={name} onChange={setName} placeholder="laptop, ci, …" autoFocus />
      <Field label="Only these projects (IDs, comma-separated; empty: every project)" value={projects} onChange={setProjects} placeholder="1, 2" />
      <label className="inline"><input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.target.checked)} disabled={admin} /> Read-only</label>{' '}
      <label className="inline"><input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} disabled={readOnly || projects.trim() !== ''} /> Admin (manages keys; every project, read and write)</label>
    </Dialog>
  );
}
