import { useEffect, useRef, useState, type MouseEvent, type ReactNode } from 'react';
import type { paths } from '../../../client/index.js';
import { api, ApiError, ok } from '../lib/api.js';
import { CredentialGate } from '../lib/credential-gate.js';
import { useLoad } from '../lib/load.js';
import { Link, navigate, segments, usePosition, useSearchValue } from '../lib/router.js';
import { Async, Dialog, ErrorBox, Field, formatTime, Page } from '../lib/ui.js';

type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: { 200: { content: { 'application/json': infer B } } } } ? B : never;
type User = Json<'/dreamspace/users/{id}', 'get'>;
type SpaceDocument = Json<'/dreamspace/documents/{id}', 'get'>;
type Stamp = SpaceDocument['stamps'][number];

const PAGE = 50;
/** An ID in the address: a positive whole number, else undefined (and not sent). */
const idParam = (value: string | undefined) => (value !== undefined && /^[1-9][0-9]{0,15}$/.test(value) ? Number(value) : undefined);

export default function SpaceRoutes({ path }: { path: string }) {
  const s = segments(path).slice(1);
  const tab = s[0] ?? 'users';
  const tabs: [string, string][] = [['users', 'Users'], ['transactions', 'Transactions'], ['specimens', 'Specimens'], ['events', 'Events'], ['documents', 'Documents']];
  let body: ReactNode;
  if (tab === 'users') body = s[1] ? <UserPage id={Number(s[1])} /> : <Users />;
  else if (tab === 'transactions') body = <Transactions />;
  else if (tab === 'specimens') body = <Specimens />;
  else if (tab === 'events') body = <Events />;
  else if (tab === 'documents') body = s[1] ? <DocumentPage id={Number(s[1])} /> : <Documents />;
  else body = <ErrorBox error={new ApiError(404, `No page /${path}`)} />;
  return (
    <CredentialGate kind="space" api="Dreamspace" label="API token" help={<>Dreamspace calls need the server's API token (<code>[API] APITOKEN</code> or <code>DREAMSPACE_APITOKEN</code>).</>}>
      <nav aria-label="Dreamspace" className="tabs">
        {tabs.map(([key, label]) => <Link key={key} to={`space/${key}`} aria-current={tab === key ? 'page' : undefined}>{label}</Link>)}
      </nav>
      {body}
    </CredentialGate>
  );
}

/** A list filter kept in the address (`?name=value`); changing it starts again from the first page (drops `after`). */
const useFilter = (name: string) => useSearchValue(name, ['after']);

/**
 * Dreamspace paging: `limit` and `after` (the last ID seen), kept in the address (`?after=`): Next adds a history
 * entry, Previous goes back. Filters drop it when they change (their setters reset `after`).
 */
function useAfterPages<T>(load: (after: number | undefined) => Promise<T[]>, idOf: (item: T) => number, deps: unknown[]) {
  const position = usePosition('after');
  const after = idParam(position.value);
  const loaded = useLoad(() => load(after), [...deps, after]);
  const items = loaded.data ?? [];
  const pager = (
    <nav aria-label="Pages" className="pager">
      <button type="button" disabled={after === undefined} onClick={position.previous}>Previous page</button>
      <span>{position.page === undefined ? 'A later page' : `Page ${position.page}`}</span>
      <button type="button" disabled={items.length < PAGE} onClick={() => position.next(String(idOf(items[items.length - 1])))}>Next page</button>
    </nav>
  );
  return { loaded, pager };
}

function Users() {
  const [name, setName] = useFilter('name');
  const [creating, setCreating] = useState(false);
  const { loaded, pager } = useAfterPages((after) => ok(api.GET('/dreamspace/users', { params: { query: { limit: PAGE, after, ...(name ? { name } : {}) } } })), (u) => u.user_id, [name]);
  return (
    <Page title="Users" actions={<button type="button" className="primary" onClick={() => setCreating(true)}>New user</button>}>
      <div className="toolbar"><label className="inline">Name is <input value={name} onChange={(e) => setName(e.target.value)} /></label></div>
      <Async loaded={loaded} isEmpty={(d) => d.length === 0} empty="No users.">
        {(users) => (
          <>
            <table>
              <caption className="sr-only">Users</caption>
              <thead><tr><th scope="col">ID</th><th scope="col">Name</th><th scope="col">Twitch ID</th><th scope="col">Wallet</th><th scope="col">Current specimen</th><th scope="col">Created</th></tr></thead>
              <tbody>
                {users.map((u) => (
                  <tr key={u.user_id}>
                    <td>{u.user_id}</td><td><Link to={`space/users/${u.user_id}`}>{u.name}</Link></td><td>{u.twitch_id}</td><td>{u.wallet ?? 0}</td>
                    <td>{u.specimen ? `#${u.specimen.specimen_id}, born ${formatTime(u.specimen.born_at)}` : '—'}</td><td>{formatTime(u.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {pager}
          </>
        )}
      </Async>
      {creating && <NewUser onClose={() => setCreating(false)} />}
    </Page>
  );
}

function NewUser({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [twitch, setTwitch] = useState('');
  return (
    <Dialog title="New user" submitLabel="Create user" onClose={onClose} onSubmit={async () => {
      const u = await ok(api.POST('/dreamspace/users', { body: { name, twitch_id: twitch } }));
      navigate(`space/users/${u.user_id}`);
    }}>
      <Field label="Name" value={name} onChange={setName} required autoFocus />
      <Field label="Twitch ID" value={twitch} onChange={setTwitch} required />
    </Dialog>
  );
}

function UserPage({ id }: { id: number }) {
  const [adding, setAdding] = useState(false);
  const user = useLoad(() => ok(api.GET('/dreamspace/users/{id}', { params: { path: { id } } })), [id]);
  const transactions = useLoad(() => ok(api.GET('/dreamspace/users/{id}/transactions', { params: { path: { id } } })), [id]);
  const specimens = useLoad(() => ok(api.GET('/dreamspace/users/{id}/specimens', { params: { path: { id } } })), [id]);
  return (
    <Async loaded={user}>
      {(u: User) => (
        <Page title={u.name} crumbs={[{ to: 'space/users', label: 'Users' }]} actions={<button type="button" onClick={() => setAdding(true)}>New transaction</button>}>
          <dl className="facts">
            <dt>User ID</dt><dd>{u.user_id}</dd>
            <dt>Twitch ID</dt><dd>{u.twitch_id}</dd>
            <dt>Wallet</dt><dd data-testid="wallet">{u.wallet ?? 0}</dd>
            <dt>Current specimen</dt><dd>{u.specimen ? `#${u.specimen.specimen_id}, born ${formatTime(u.specimen.born_at)}` : 'none'}</dd>
            <dt>Created</dt><dd>{formatTime(u.created_at)}</dd>
          </dl>
          <h2>Transactions</h2>
          <Async loaded={transactions} isEmpty={(d) => d.length === 0} empty="No transactions.">
            {(list) => (
              <table><caption className="sr-only">Transactions</caption>
                <thead><tr><th scope="col">ID</th><th scope="col">Amount</th><th scope="col">Description</th><th scope="col">Reference</th><th scope="col">When</th></tr></thead>
                <tbody>{list.map((t) => <tr key={t.transaction_id}><td>{t.transaction_id}</td><td>{t.amount}</td><td>{t.description}</td><td>{t.reference}</td><td>{formatTime(t.created_at)}</td></tr>)}</tbody>
              </table>
            )}
          </Async>
          <h2>Specimens</h2>
          <Async loaded={specimens} isEmpty={(d) => d.length === 0} empty="No specimens.">
            {(list) => (
              <table><caption className="sr-only">Specimens</caption>
                <thead><tr><th scope="col">ID</th><th scope="col">Born</th><th scope="col">Forgotten</th></tr></thead>
                <tbody>{list.map((s) => <tr key={s.specimen_id}><td>{s.specimen_id}</td><td>{formatTime(s.born_at)}</td><td>{formatTime(s.forgotten_at)}</td></tr>)}</tbody>
              </table>
            )}
          </Async>
          {adding && <NewTransaction userId={u.user_id} onClose={() => setAdding(false)} onDone={() => { user.reload(); transactions.reload(); }} />}
        </Page>
      )}
    </Async>
  );
}

function NewTransaction({ userId, onClose, onDone }: { userId: number; onClose: () => void; onDone: () => void }) {
  const [amount, setAmount] = useState('');
  const [description, setDescription] = useState('');
  return (
    <Dialog title="New transaction" submitLabel="Add transaction" onClose={onClose} onSubmit={async () => {
      const n = Number(amount);
      if (!Number.isInteger(n)) throw new Error('The amount must be a whole number.');
      await ok(api.POST('/dreamspace/users/{id}/transactions', { params: { path: { id: userId } }, body: { amount: n, description } }));
      onDone();
    }}>
      <Field label="Amount" value={amount} onChange={setAmount} required type="number" autoFocus />
      <Field label="Description" value={description} onChange={setDescription} required />
    </Dialog>
  );
}

function Transactions() {
  const [user, setUser] = useFilter('user');
  const userId = idParam(user);
  const { loaded, pager } = useAfterPages((after) => ok(api.GET('/dreamspace/transactions', { params: { query: { limit: PAGE, after, ...(userId ? { user_id: userId } : {}) } } })), (t) => t.transaction_id, [userId]);
  return (
    <Page title="Transactions">
      <div className="toolbar"><label className="inline">User ID <input type="number" min={1} value={user} onChange={(e) => setUser(e.target.value)} className="narrow-input" /></label></div>
      <Async loaded={loaded} isEmpty={(d) => d.length === 0} empty="No transactions.">
        {(list) => (
          <>
            <table><caption className="sr-only">Transactions</caption>
              <thead><tr><th scope="col">ID</th><th scope="col">User</th><th scope="col">Amount</th><th scope="col">Description</th><th scope="col">When</th></tr></thead>
              <tbody>{list.map((t) => <tr key={t.transaction_id}><td>{t.transaction_id}</td><td><Link to={`space/users/${t.user_id}`}>{t.user.name}</Link></td><td>{t.amount}</td><td>{t.description}</td><td>{formatTime(t.created_at)}</td></tr>)}</tbody>
            </table>
            {pager}
          </>
        )}
      </Async>
    </Page>
  );
}

function Specimens() {
  const [forgottenParam, setForgotten] = useFilter('forgotten');
  const forgotten = forgottenParam === 'true' || forgottenParam === 'false' ? forgottenParam : '';
  const { loaded, pager } = useAfterPages((after) => ok(api.GET('/dreamspace/specimens', { params: { query: { limit: PAGE, after, ...(forgotten ? { forgotten: forgotten === 'true' } : {}) } } })), (s) => s.specimen_id, [forgotten]);
  return (
    <Page title="Specimens">
      <div className="toolbar">
        <label className="inline">Forgotten <select value={forgotten} onChange={(e) => setForgotten(e.target.value)}><option value="">any</option><option value="true">yes</option><option value="false">no</option></select></label>
      </div>
      <Async loaded={loaded} isEmpty={(d) => d.length === 0} empty="No specimens.">
        {(list) => (
          <>
            <table><caption className="sr-only">Specimens</caption>
              <thead><tr><th scope="col">ID</th><th scope="col">Owner</th><th scope="col">Born</th><th scope="col">Forgotten</th></tr></thead>
              <tbody>{list.map((s) => <tr key={s.specimen_id}><td>{s.specimen_id}</td><td><Link to={`space/users/${s.owner_id}`}>user {s.owner_id}</Link></td><td>{formatTime(s.born_at)}</td><td>{formatTime(s.forgotten_at)}</td></tr>)}</tbody>
            </table>
            {pager}
          </>
        )}
      </Async>
    </Page>
  );
}

const EVENT_TYPES = ['plain', 'subscriber', 'cheer', 'raid'] as const;

const DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

// The filters live in the URL (?type=&user=&document=&from=&to=; not after=, the page position): reload, Back and a shared link keep them.
function Events() {
  const [type, setType] = useFilter('type');
  const [user, setUser] = useFilter('user');
  const [docId, setDocId] = useFilter('document');
  const [from, setFrom] = useFilter('from');
  const [to, setTo] = useFilter('to');
  // A hand-edited URL may hold anything: only well-formed filters are sent (the form shows what is in effect).
  const userId = idParam(user);
  const documentId = idParam(docId);
  const query = {
    ...((EVENT_TYPES as readonly string[]).includes(type) ? { event_type: type as 'plain' } : {}),
    ...(userId ? { user_id: userId } : {}),
    ...(documentId ? { document_id: documentId } : {}),
    ...(DATE.test(from) ? { occurred_after: from } : {}),
    ...(DATE.test(to) ? { occurred_before: to } : {}),
  };
  const { loaded, pager } = useAfterPages((after) => ok(api.GET('/dreamspace/events', { params: { query: { limit: PAGE, after, ...query } } })), (e) => e.event_id, [type, user, docId, from, to]);
  return (
    <Page title="Events">
      <form className="toolbar" aria-label="Event filters" onSubmit={(e) => e.preventDefault()}>
        <label className="inline">Type <select value={type} onChange={(e) => setType(e.target.value)}><option value="">any</option>{EVENT_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}</select></label>
        <label className="inline">User ID <input type="number" min={1} value={user} onChange={(e) => setUser(e.target.value)} className="narrow-input" /></label>
        <label className="inline">Document ID <input type="number" min={1} value={docId} onChange={(e) => setDocId(e.target.value)} className="narrow-input" /></label>
        <label className="inline">Occurred after <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} /></label>
        <label className="inline">Occurred before <input type="date" value={to} onChange={(e) => setTo(e.target.value)} /></label>
      </form>
      <Async loaded={loaded} isEmpty={(d) => d.length === 0} empty="No events match.">
        {(list) => (
          <>
            <table><caption className="sr-only">Events</caption>
              <thead><tr><th scope="col">ID</th><th scope="col">Type</th><th scope="col">User</th><th scope="col">Document</th><th scope="col">Occurred</th></tr></thead>
              <tbody>{list.map((e) => (
                <tr key={e.event_id}><td>{e.event_id}</td><td><span className="badge">{e.event_type}</span></td>
                  <td>{e.user_id ? <Link to={`space/users/${e.user_id}`}>{e.user_name ?? e.user_id}</Link> : '—'}</td>
                  <td>{e.document_id ? <Link to={`space/documents/${e.document_id}`}>document {e.document_id}</Link> : '—'}</td>
                  <td>{formatTime(e.occurred_at)}</td></tr>
              ))}</tbody>
            </table>
            {pager}
          </>
        )}
      </Async>
    </Page>
  );
}

function Documents() {
  const [creating, setCreating] = useState(false);
  const { loaded, pager } = useAfterPages((after) => ok(api.GET('/dreamspace/documents', { params: { query: { limit: PAGE, after } } })), (d) => d.document_id, []);
  return (
    <Page title="Documents" actions={<button type="button" className="primary" onClick={() => setCreating(true)}>New document</button>}>
      <Async loaded={loaded} isEmpty={(d) => d.length === 0} empty="No documents.">
        {(list) => (
          <>
            <table><caption className="sr-only">Documents</caption>
              <thead><tr><th scope="col">ID</th><th scope="col">Seal</th><th scope="col">Stamps</th><th scope="col">Metadata</th><th scope="col">Created</th></tr></thead>
              <tbody>{list.map((d) => <tr key={d.document_id}><td><Link to={`space/documents/${d.document_id}`}>document {d.document_id}</Link></td><td>{d.seal}</td><td>{d.stamps.length}</td><td>{d.metadata}</td><td>{formatTime(d.created_at)}</td></tr>)}</tbody>
            </table>
            {pager}
          </>
        )}
      </Async>
      {creating && <NewDocument onClose={() => setCreating(false)} />}
    </Page>
  );
}

function NewDocument({ onClose }: { onClose: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [seal, setSeal] = useState('1');
  const [metadata, setMetadata] = useState('');
  return (
    <Dialog title="New document" submitLabel="Create document" onClose={onClose} onSubmit={async () => {
      if (!file) throw new Error('Choose an image.');
      const bytes = new Uint8Array(await file.arrayBuffer());
      let binary = '';
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      const doc = await ok(api.POST('/dreamspace/documents', { body: { document_data: btoa(binary), seal: Number(seal), ...(metadata ? { metadata } : {}) } }));
      navigate(`space/documents/${doc.document_id}`);
    }}>
      <div className="field">
        <label htmlFor="space-image">Image</label>
        <input id="space-image" type="file" accept="image/*" required onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      </div>
      <Field label="Seal" value={seal} onChange={setSeal} type="number" required />
      <Field label="Metadata" value={metadata} onChange={setMetadata} />
    </Dialog>
  );
}

/** The image type from its first bytes (documents carry bare base64). */
function imageType(base64: string): string {
  if (base64.startsWith('iVBOR')) return 'image/png';
  if (base64.startsWith('/9j/')) return 'image/jpeg';
  if (base64.startsWith('R0lG')) return 'image/gif';
  if (base64.startsWith('UklGR')) return 'image/webp';
  if (base64.startsWith('PHN2') || base64.startsWith('PD94')) return 'image/svg+xml';
  return 'application/octet-stream';
}

function DocumentPage({ id }: { id: number }) {
  const doc = useLoad(() => ok(api.GET('/dreamspace/documents/{id}', { params: { path: { id } } })), [id]);
  return <Async loaded={doc}>{(d) => <DocumentView doc={d} reload={doc.reload} />}</Async>;
}

function DocumentView({ doc, reload }: { doc: SpaceDocument; reload: () => void }) {
  const [src, setSrc] = useState<string | null>(null);
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  const [adding, setAdding] = useState<{ x: number; y: number } | null>(null);
  const img = useRef<HTMLImageElement>(null);
  useEffect(() => {
    const bin = atob(doc.document_data);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const url = URL.createObjectURL(new Blob([bytes], { type: imageType(doc.document_data) }));
    setSrc(url);
    return () => URL.revokeObjectURL(url);
  }, [doc.document_data]);
  const place = (e: MouseEvent<HTMLImageElement>) => {
    const el = img.current;
    if (!el || !size) return;
    const rect = el.getBoundingClientRect();
    setAdding({ x: Math.round(((e.clientX - rect.left) / rect.width) * size.w), y: Math.round(((e.clientY - rect.top) / rect.height) * size.h) });
  };
  return (
    <Page title={`Document ${doc.document_id}`} crumbs={[{ to: 'space/documents', label: 'Documents' }]}>
      <p className="muted">Seal {doc.seal} · {doc.stamps.length} stamps · created {formatTime(doc.created_at)}{doc.metadata ? ` · ${doc.metadata}` : ''}</p>
      <p className="small muted">Click on the image to add a stamp there (or use the button for exact coordinates).</p>
      <div className="toolbar"><button type="button" onClick={() => setAdding({ x: 0, y: 0 })}>Add stamp</button></div>
      {src && (
        <figure className="stage" aria-label={`Document ${doc.document_id} with its stamps`}>
          <img ref={img} src={src} alt={`Document ${doc.document_id}`} onClick={place} onLoad={(e) => setSize({ w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight })} />
          {size && doc.stamps.map((s) => <StampMark key={s.stamp_id} stamp={s} size={size} />)}
        </figure>
      )}
      <h2>Stamps</h2>
      {doc.stamps.length === 0 ? <p className="empty">No stamps yet.</p> : (
        <table><caption className="sr-only">Stamps</caption>
          <thead><tr><th scope="col">ID</th><th scope="col">Type</th><th scope="col">x</th><th scope="col">y</th><th scope="col">Rotation (rad)</th></tr></thead>
          <tbody>{doc.stamps.map((s) => <tr key={s.stamp_id}><td>{s.stamp_id}</td><td>{s.stamp_type}</td><td>{s.pos_x}</td><td>{s.pos_y}</td><td>{s.rotation}</td></tr>)}</tbody>
        </table>
      )}
      {adding && <NewStamp documentId={doc.document_id} at={adding} onClose={() => setAdding(null)} onDone={reload} />}
    </Page>
  );
}

/** A stamp drawn where it sits on the image: pos_x/pos_y in image pixels, rotated about its centre. */
function StampMark({ stamp, size }: { stamp: Stamp; size: { w: number; h: number } }) {
  const ref = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    // CSSOM, not a style attribute: the console's CSP has no 'unsafe-inline' for styles.
    const el = ref.current;
    if (!el) return;
    el.style.left = `${(stamp.pos_x / size.w) * 100}%`;
    el.style.top = `${(stamp.pos_y / size.h) * 100}%`;
    el.style.transform = `translate(-50%, -50%) rotate(${stamp.rotation}rad)`;
  }, [stamp, size]);
  return (
    <span ref={ref} className="stamp" role="img" aria-label={`Stamp ${stamp.stamp_type} at ${stamp.pos_x}, ${stamp.pos_y}`} data-x={stamp.pos_x} data-y={stamp.pos_y} data-rotation={stamp.rotation}>
      {stamp.stamp_type}
    </span>
  );
}

function NewStamp({ documentId, at, onClose, onDone }: { documentId: number; at: { x: number; y: number }; onClose: () => void; onDone: () => void }) {
  const [type, setType] = useState('approved');
  const [x, setX] = useState(String(at.x));
  const [y, setY] = useState(String(at.y));
  const [degrees, setDegrees] = useState('0');
  return (
    <Dialog title="Add stamp" submitLabel="Add stamp" onClose={onClose} onSubmit={async () => {
      await ok(api.POST('/dreamspace/documents/{id}/stamps', { params: { path: { id: documentId } }, body: { stamp_type: type, pos_x: Math.round(Number(x)), pos_y: Math.round(Number(y)), rotation: (Number(degrees) * Math.PI) / 180 } }));
      onDone();
    }}>
      <Field label="Stamp type" value={type} onChange={setType} required autoFocus />
      <Field label="x (pixels)" value={x} onChange={setX} type="number" required />
      <Field label="y (pixels)" value={y} onChange={setY} type="number" required />
      <Field label="Rotation (degrees)" value={degrees} onChange={setDegrees} type="number" />
    </Dialog>
  );
}
