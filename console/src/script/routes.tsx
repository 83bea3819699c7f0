import { useEffect, useMemo, useRef, useState } from 'react';
import type { paths } from '../../../client/index.js';
import { api, ApiError, ok, toApiError } from '../lib/api.js';
import { CredentialGate } from '../lib/credential-gate.js';
import { diffLines } from '../lib/diff.js';
import { useLoad } from '../lib/load.js';
import { join, Link, navigate, segments } from '../lib/router.js';
import { Async, Dialog, ErrorBox, errorText, Field, formatTime, Page } from '../lib/ui.js';
import { allowedBy, KeyRulesProvider, useKeyRules } from './key.js';
import { Keys } from './keys.js';
import { nextCursor, useCursorPages } from './paging.js';

type Doc = paths['/dreamscript/documents/{documentId}']['get']['responses'][200]['content']['application/json'];
type Project = paths['/dreamscript/projects/{projectId}']['get']['responses'][200]['content']['application/json'];

export default function ScriptRoutes({ path }: { path: string }) {
  const s = segments(path).slice(1);
  return (
    <CredentialGate kind="script" api="Dreamscript" label="API key" help={<>Dreamscript calls need an API key: <code>dreamlake keys create</code> prints one.</>}>
      <KeyRulesProvider>
        <ScriptNav at={s} />
        {s.length === 0 ? <Projects /> : s[0] === 'projects' && s[1] ? <ById kind="project" id={s[1]}>{(id) => <ProjectDocuments id={id} />}</ById> : s[0] === 'documents' && s[1] ? <ById kind="document" id={s[1]}>{(id) => <DocumentPage id={id} />}</ById> : s[0] === 'documents' ? <Documents /> : s[0] === 'changes' ? <Changes /> : s[0] === 'keys' && !s[1] ? <Keys /> : <ErrorBox error={new ApiError(404, `No page /${path}`)} />}
      </KeyRulesProvider>
    </CredentialGate>
  );
}

/** The Dreamscript tabs; "API keys" only for an admin key (the only kind that may manage keys). */
function ScriptNav({ at }: { at: string[] }) {
  const { key } = useKeyRules();
  return (
    <nav aria-label="Dreamscript" className="tabs">
      <Link to="script" aria-current={at.length === 0 || at[0] === 'projects' ? 'page' : undefined}>Projects</Link>
      <Link to="script/documents" aria-current={at[0] === 'documents' && !at[1] ? 'page' : undefined}>All documents</Link>
      <Link to="script/changes" aria-current={at[0] === 'changes' ? 'page' : undefined}>Live changes</Link>
      {key?.admin && <Link to="script/keys" aria-current={at[0] === 'keys' ? 'page' : undefined}>API keys</Link>}
    </nav>
  );
}

/** IDs are positive decimal integers: anything else is not found without asking the server (which would get …/NaN). */
function ById({ kind, id, children }: { kind: string; id: string; children: (id: number) => React.ReactNode }) {
  const n = /^[1-9][0-9]*$/.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(n)) return <ErrorBox error={new ApiError(404, `Invalid ${kind} ID "${id}": IDs are positive whole numbers.`)} />;
  return <>{children(n)}</>;
}

function Projects() {
  const [creating, setCreating] = useState(false);
  const rules = useKeyRules();
  const { loaded, pager } = useCursorPages((cursor) => api.GET('/dreamscript/projects', { params: { query: { limit: 50, cursor } } }), []);
  return (
    <Page title="Dreamscript projects" actions={<button type="button" className="primary" {...allowedBy(rules.manageProjects)} onClick={() => setCreating(true)}>New project</button>}>
      <Async loaded={loaded} isEmpty={(d) => d.items.length === 0} empty="No projects this key can see.">
        {(d) => (
          <>
            <table>
              <caption className="sr-only">Projects</caption>
              <thead><tr><th scope="col">ID</th><th scope="col">Project</th><th scope="col">Description</th><th scope="col">Updated</th></tr></thead>
              <tbody>
                {d.items.map((p) => (
                  <tr key={p.id}><td>{p.id}</td><td><Link to={`script/projects/${p.id}`}>{p.name}</Link></td><td>{p.description}</td><td>{formatTime(p.updatedAt)}</td></tr>
                ))}
              </tbody>
            </table>
            {pager}
          </>
        )}
      </Async>
      {creating && <ProjectForm onClose={() => setCreating(false)} onDone={(p) => navigate(`script/projects/${p.id}`)} />}
    </Page>
  );
}

function ProjectForm({ project, onClose, onDone }: { project?: Project; onClose: () => void; onDone: (p: Project) => void }) {
  const [name, setName] = useState(project?.name ?? '');
  const [description, setDescription] = useState(project?.description ?? '');
  return (
    <Dialog title={project ? `Edit ${project.name}` : 'New project'} submitLabel={project ? 'Save project' : 'Create project'} onClose={onClose} onSubmit={async () => {
      const body = { name, ...(description ? { description } : {}) };
      const p = project
        ? await ok(api.PATCH('/dreamscript/projects/{projectId}', { params: { path: { projectId: project.id } }, body }))
        : await ok(api.POST('/dreamscript/projects', { body }));
      onDone(p);
    }}>
      <Field label="Project name" value={name} onChange={setName} required autoFocus />
      <Field label="Description" value={description} onChange={setDescription} multiline />
    </Dialog>
  );
}

function ProjectDocuments({ id }: { id: number }) {
  const [dialog, setDialog] = useState<'edit' | 'delete' | 'new' | null>(null);
  const rules = useKeyRules();
  const project = useLoad(() => ok(api.GET('/dreamscript/projects/{projectId}', { params: { path: { projectId: id } } })), [id]);
  const { loaded, pager } = useCursorPages((cursor) => api.GET('/dreamscript/projects/{projectId}/documents', { params: { path: { projectId: id }, query: { limit: 50, cursor } } }), [id]);
  return (
    <Async loaded={project}>
      {(p) => (
        <Page title={p.name} crumbs={[{ to: 'script', label: 'Dreamscript projects' }]} actions={<>
          <button type="button" className="primary" {...allowedBy(rules.writeDocuments)} onClick={() => setDialog('new')}>New document</button>
          <button type="button" {...allowedBy(rules.manageProjects)} onClick={() => setDialog('edit')}>Edit project</button>
          <button type="button" className="danger" {...allowedBy(rules.manageProjects)} onClick={() => setDialog('delete')}>Delete project</button>
        </>}>
          {p.description && <p>{p.description}</p>}
          <DocumentTable loaded={loaded} pager={pager} />
          {dialog === 'edit' && <ProjectForm project={p} onClose={() => setDialog(null)} onDone={() => project.reload()} />}
          {dialog === 'new' && <NewDocument projectId={p.id} onClose={() => setDialog(null)} />}
          {dialog === 'delete' && (
            <Dialog title={`Delete ${p.name}?`} submitLabel="Delete project" danger onClose={() => setDialog(null)} onSubmit={async () => {
              await ok(api.DELETE('/dreamscript/projects/{projectId}', { params: { path: { projectId: p.id } } }));
              navigate('script');
            }}>
              <p>The project is deleted (the server refuses while it still holds documents, and says so).</p>
            </Dialog>
          )}
        </Page>
      )}
    </Async>
  );
}

function Documents() {
  const [creating, setCreating] = useState(false);
  const rules = useKeyRules();
  const { loaded, pager } = useCursorPages((cursor) => api.GET('/dreamscript/documents', { params: { query: { limit: 50, cursor } } }), []);
  return (
    <Page title="All documents" actions={<button type="button" className="primary" {...allowedBy(rules.writeLooseDocuments)} onClick={() => setCreating(true)}>New document</button>}>
      <DocumentTable loaded={loaded} pager={pager} />
      {creating && <NewDocument projectId={null} onClose={() => setCreating(false)} />}
    </Page>
  );
}

function DocumentTable({ loaded, pager }: { loaded: ReturnType<typeof useCursorPages<Doc>>['loaded']; pager: React.ReactNode }) {
  return (
    <Async loaded={loaded} isEmpty={(d) => d.items.length === 0} empty="No documents.">
      {(d) => (
        <>
          <table>
            <caption className="sr-only">Documents</caption>
            <thead><tr><th scope="col">ID</th><th scope="col">Title</th><th scope="col">Revision</th><th scope="col">Updated</th></tr></thead>
            <tbody>
              {d.items.map((doc) => (
                <tr key={doc.id}><td>{doc.id}</td><td><Link to={`script/documents/${doc.id}`}>{doc.title}</Link></td><td><code>{doc._rev}</code></td><td>{formatTime(doc.updatedAt)}</td></tr>
              ))}
            </tbody>
          </table>
          {pager}
        </>
      )}
    </Async>
  );
}

function NewDocument({ projectId, onClose }: { projectId: number | null; onClose: () => void }) {
  const [title, setTitle] = useState('');
  const [content, setContent] = useState('');
  return (
    <Dialog title="New document" submitLabel="Create document" onClose={onClose} onSubmit={async () => {
      const doc = await ok(api.POST('/dreamscript/documents', { body: { title, content, projectId } }));
      navigate(`script/documents/${doc.id}`);
    }}>
      <Field label="Title" value={title} onChange={setTitle} required autoFocus />
      <Field label="Content" value={content} onChange={setContent} multiline />
    </Dialog>
  );
}

/** What the editor shows and saves: the writable fields of a document. */
function editable(doc: Doc): string {
  return JSON.stringify({ title: doc.title, content: doc.content ?? null, projectId: doc.projectId ?? null }, null, 2);
}

type Body = { title: string; content: string | null; projectId: number | null };

/** Parses and checks the editor's text; the error says what to fix. */
function validate(text: string): { body?: Body; error?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `Not valid JSON: ${(e as Error).message}` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: 'The document must be a JSON object.' };
  const v = value as Record<string, unknown>;
  const unknown = Object.keys(v).filter((k) => !['title', 'content', 'projectId'].includes(k));
  if (unknown.length) return { error: `Unknown field ${unknown.join(', ')}: only title, content and projectId can be edited.` };
  if (typeof v.title !== 'string' || !v.title.trim()) return { error: 'title must be a non-empty string.' };
  if (v.content !== undefined && v.content !== null && typeof v.content !== 'string') return { error: 'content must be a string or null.' };
  if (v.projectId !== undefined && v.projectId !== null && !(Number.isInteger(v.projectId) && (v.projectId as number) > 0)) return { error: 'projectId must be a positive integer or null.' };
  return { body: { title: v.title, content: (v.content as string | null | undefined) ?? null, projectId: (v.projectId as number | null | undefined) ?? null } };
}

function DocumentPage({ id }: { id: number }) {
  const loaded = useLoad(async () => {
    const res = await api.GET('/dreamscript/documents/{documentId}', { params: { path: { documentId: id } } });
    if (res.response.ok) return { doc: res.data as Doc };
    // A deleted document answers 404 like one that never was, but keeps its revisions: ask for them to tell which.
    if (res.response.status === 404) {
      const revisions = await api.GET('/dreamscript/documents/{documentId}/revisions', { params: { path: { documentId: id }, query: { limit: 1 } } });
      if (revisions.response.ok) return { doc: null };
    }
    throw toApiError(res.response.status, res.error);
  }, [id]);
  return (
    <Async loaded={loaded}>
      {({ doc }) => doc ? <Editor key={doc.id} initial={doc} reload={loaded.reload} /> : (
        <Page title={`Document ${id}`} crumbs={[{ to: 'script', label: 'Dreamscript projects' }]}>
          <div role="alert" className="error-box">
            <strong>Deleted</strong>
            <p>Document {id} was deleted.</p>
          </div>
        </Page>
      )}
    </Async>
  );
}

function Editor({ initial, reload }: { initial: Doc; reload: () => void }) {
  const [doc, setDoc] = useState(initial);
  const [text, setText] = useState(() => editable(initial));
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Doc | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [historyTick, setHistoryTick] = useState(0);
  const check = useMemo(() => validate(text), [text]);
  const readOnly = useKeyRules().writeDocuments;

  const save = async (rev: string) => {
    setStatus(null);
    setError(null);
    if (!check.body) return;
    let saved: Doc;
    try {
      const res = await api.PUT('/dreamscript/documents/{documentId}', { params: { path: { documentId: doc.id } }, body: check.body, headers: { 'if-match': `"${rev}"` } });
      if (res.response.status === 409) {
        setConflict(await ok(api.GET('/dreamscript/documents/{documentId}', { params: { path: { documentId: doc.id } } })));
        return;
      }
      if (!res.response.ok) throw toApiError(res.response.status, res.error);
      saved = res.data as Doc;
    } catch (e) {
      setError(errorText(e));
      return;
    }
    setDoc(saved);
    setText(editable(saved));
    setConflict(null);
    setStatus(`Saved revision ${saved._rev}`);
    setHistoryTick((t) => t + 1);
  };

  return (
    <Page title={doc.title} crumbs={[{ to: 'script', label: 'Dreamscript projects' }, ...(doc.projectId ? [{ to: `script/projects/${doc.projectId}`, label: `Project ${doc.projectId}` }] : [])]} actions={<button type="button" className="danger" {...allowedBy(readOnly)} onClick={() => setDeleting(true)}>Delete document</button>}>
      <p className="muted">Document {doc.id} · revision <code data-testid="current-rev">{doc._rev}</code> · updated {formatTime(doc.updatedAt)}</p>
      <div className="field">
        <label htmlFor="doc-json">Document JSON</label>
        <textarea id="doc-json" className="editor" value={text} spellCheck={false} onChange={(e) => setText(e.target.value)} aria-invalid={!!check.error} aria-describedby="doc-json-check" />
        <p id="doc-json-check" className={check.error ? 'error-text' : 'muted small'}>{check.error ?? 'Valid: title, content and projectId.'}</p>
      </div>
      <div className="toolbar">
        <button type="button" className="primary" disabled={!!check.error || !!conflict || !!readOnly} title={readOnly ?? undefined} onClick={() => void save(doc._rev)}>Save</button>
        <button type="button" onClick={() => { setText(editable(doc)); setStatus(null); }}>Revert changes</button>
        <button type="button" onClick={reload}>Reload from server</button>
        {status && <span role="status">{status}</span>}
        {error && <span role="alert" className="error-text">{error}</span>}
      </div>
      {conflict && (
        <section className="conflict" aria-labelledby="conflict-title">
          <h2 id="conflict-title">Conflict: someone saved revision {conflict._rev} while you were editing</h2>
          <div className="split">
            <div><h3>Your version</h3><pre aria-label="Your version">{text}</pre></div>
            <div><h3>Their version ({conflict._rev})</h3><pre aria-label="Their version">{editable(conflict)}</pre></div>
          </div>
          <div className="toolbar">
            <button type="button" className="primary" onClick={() => void save(conflict._rev)}>Keep my version</button>
            <button type="button" onClick={() => { setDoc(conflict); setText(editable(conflict)); setConflict(null); setStatus(`Took revision ${conflict._rev}`); setHistoryTick((t) => t + 1); }}>Take their version</button>
          </div>
        </section>
      )}
      <History id={doc.id} tick={historyTick} />
      {deleting && (
        <Dialog title={`Delete ${doc.title}?`} submitLabel="Delete document" danger onClose={() => setDeleting(false)} onSubmit={async () => {
          await ok(api.DELETE('/dreamscript/documents/{documentId}', { params: { path: { documentId: doc.id }, query: { rev: doc._rev } } }));
          navigate(doc.projectId ? `script/projects/${doc.projectId}` : 'script/documents');
        }}>
          <p>A tombstone revision is written; the history stays readable.</p>
        </Dialog>
      )}
    </Page>
  );
}

function History({ id, tick }: { id: number; tick: number }) {
  const revisions = useLoad(async () => {
    const all: { _rev: string; deleted?: boolean; createdAt: string }[] = [];
    let cursor: string | undefined;
    do {
      const res = await api.GET('/dreamscript/documents/{documentId}/revisions', { params: { path: { documentId: id }, query: { limit: 200, cursor } } });
      if (!res.response.ok) throw toApiError(res.response.status, res.error);
      all.push(...(res.data ?? []));
      cursor = nextCursor(res.response);
    } while (cursor && all.length < 1000);
    return all;
  }, [id, tick]);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const revs = revisions.data ?? [];
  useEffect(() => {
    if (revs.length >= 2) {
      setFrom(revs[revs.length - 2]._rev);
      setTo(revs[revs.length - 1]._rev);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [revisions.data]);
  const diff = useLoad(async () => {
    if (!from || !to) return null;
    const get = (rev: string) => ok(api.GET('/dreamscript/documents/{documentId}', { params: { path: { documentId: id }, query: { rev } } }));
    const [a, b] = await Promise.all([get(from), get(to)]);
    return diffLines(editable(a), editable(b));
  }, [id, from, to]);
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">Revision history</h2>
      <Async loaded={revisions} isEmpty={(d) => d.length === 0}>
        {(d) => (
          <>
            <ol className="feed">
              {d.map((r) => <li key={r._rev}><code>{r._rev}</code> · {formatTime(r.createdAt)}{r.deleted ? ' · deleted' : ''}</li>)}
            </ol>
            {d.length >= 2 && (
              <div className="toolbar">
                <label className="inline">Compare <select value={from} onChange={(e) => setFrom(e.target.value)}>{d.filter((r) => !r.deleted).map((r) => <option key={r._rev} value={r._rev}>{r._rev}</option>)}</select></label>
                <label className="inline">with <select value={to} onChange={(e) => setTo(e.target.value)}>{d.filter((r) => !r.deleted).map((r) => <option key={r._rev} value={r._rev}>{r._rev}</option>)}</select></label>
              </div>
            )}
            {diff.data && (
              <pre className="diff" aria-label="Differences between the revisions">
                {diff.data.map((l, i) => <span key={i} className={l.op}>{l.op === 'add' ? '+ ' : l.op === 'del' ? '- ' : '  '}{l.text}</span>)}
              </pre>
            )}
          </>
        )}
      </Async>
    </section>
  );
}

/** The longpoll changes feed, from now on: each answer's last_seq is the next request's since. */
function Changes() {
  const [events, setEvents] = useState<{ seq: number; id: number; _rev: string; deleted?: boolean; at: string }[]>([]);
  const [error, setError] = useState<Error | null>(null);
  const [running, setRunning] = useState(true);
  const since = useRef<string>('now');
  useEffect(() => {
    if (!running) return;
    const controller = new AbortController();
    let stop = false;
    (async () => {
      while (!stop) {
        try {
          const res = await ok(api.GET('/dreamscript/changes', { params: { query: { since: since.current, feed: 'longpoll', timeout: 25_000 } }, signal: controller.signal }));
          since.current = String(res.last_seq);
          if (res.results.length) setEvents((e) => [...res.results.map((r) => ({ ...r, at: new Date().toLocaleTimeString() })).reverse(), ...e].slice(0, 200));
          setError(null);
        } catch (e) {
          if (stop) return;
          setError(e instanceof Error ? e : new Error(String(e)));
          await new Promise((r) => setTimeout(r, 3000));
        }
      }
    })();
    return () => {
      stop = true;
      controller.abort();
    };
  }, [running]);
  return (
    <Page title="Live changes" actions={<button type="button" onClick={() => setRunning((r) => !r)}>{running ? 'Pause' : 'Resume'}</button>}>
      <p className="muted" role="status">{running ? 'Listening for changes (longpoll)…' : 'Paused.'}</p>
      {error && <ErrorBox error={error} />}
      {events.length === 0 ? <p className="empty">No changes since this page opened.</p> : (
        <ul className="feed" aria-label="Changes">
          {events.map((e) => (
            <li key={e.seq}>{e.at} · seq {e.seq} · <Link to={`script/documents/${join(String(e.id))}`}>document {e.id}</Link> · <code>{e._rev}</code>{e.deleted ? ' · deleted' : ''}</li>
          ))}
        </ul>
      )}
    </Page>
  );
}
