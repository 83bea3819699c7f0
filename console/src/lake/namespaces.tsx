import { useState } from 'react';
import { api, ok } from '../lib/api.js';
import { useLoad } from '../lib/load.js';
import { join, Link, navigate, usePageParam } from '../lib/router.js';
import { Async, Dialog, Field, formatTime, Page, Pager, parseTags, Tags } from '../lib/ui.js';
import { can, ROLES, type Member, type Namespace, type Project } from './types.js';

export function Namespaces() {
  const [page, setPage] = usePageParam();
  const [creating, setCreating] = useState(false);
  const list = useLoad(() => ok(api.GET('/namespaces', { params: { query: { page, pageSize: 50 } } })), [page]);
  return (
    <Page title="Namespaces" actions={<button type="button" className="primary" onClick={() => setCreating(true)}>New namespace</button>}>
      <Async loaded={list} isEmpty={(d) => d.total === 0} empty="You belong to no namespace yet.">
        {(d) => (
          <>
            <table>
              <caption className="sr-only">Namespaces you belong to</caption>
              <thead><tr><th scope="col">Namespace</th><th scope="col">Kind</th><th scope="col">Your role</th><th scope="col">Created</th></tr></thead>
              <tbody>
                {d.namespaces.map((n) => (
                  <tr key={n.id}>
                    <td><Link to={`lake/${join(n.slug)}`}>{n.name}</Link> <span className="muted">{n.slug}</span></td>
                    <td>{n.kind}</td>
                    <td>{n.role}</td>
                    <td>{formatTime(n.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager page={d.page} totalPages={d.totalPages} total={d.total} onPage={setPage} />
          </>
        )}
      </Async>
      {creating && <CreateNamespace onClose={() => setCreating(false)} />}
    </Page>
  );
}

function CreateNamespace({ onClose }: { onClose: () => void }) {
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  return (
    <Dialog
      title="New namespace"
      submitLabel="Create namespace"
      onClose={onClose}
      onSubmit={async () => {
        const ns = await ok(api.POST('/namespaces', { body: { slug, ...(name ? { name } : {}) } }));
        navigate(`lake/${join(ns.slug)}`);
      }}
    >
      <Field label="Slug" value={slug} onChange={setSlug} required pattern="[a-z0-9]+(-[a-z0-9]+)*" placeholder="robotics-lab" autoFocus />
      <Field label="Name" value={name} onChange={setName} placeholder="Robotics Lab" />
    </Dialog>
  );
}

export function NamespacePage({ ns, tab }: { ns: string; tab: 'projects' | 'members' }) {
  const namespace = useLoad(() => ok(api.GET('/namespaces/{slug}', { params: { path: { slug: ns } } })), [ns]);
  return (
    <Async loaded={namespace}>
      {(n) => (
        <Page title={n.name} crumbs={[{ to: '', label: 'Namespaces' }]}>
          <p className="muted">
            {n.slug} · your role: <strong>{n.role}</strong>
          </p>
          <nav aria-label="Namespace" className="tabs">
            <Link to={`lake/${join(ns)}`} aria-current={tab === 'projects' ? 'page' : undefined}>Projects</Link>
            <Link to={`lake/${join(ns, 'members')}`} aria-current={tab === 'members' ? 'page' : undefined}>Members</Link>
          </nav>
          {tab === 'projects' ? <Projects ns={n} /> : <Members ns={n} />}
        </Page>
      )}
    </Async>
  );
}

function Projects({ ns }: { ns: Namespace }) {
  const [page, setPage] = usePageParam();
  const [editing, setEditing] = useState<Project | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Project | null>(null);
  const writable = can(ns.role, 'write');
  const list = useLoad(() => ok(api.GET('/namespaces/{slug}/projects', { params: { path: { slug: ns.slug }, query: { page, pageSize: 50 } } })), [ns.slug, page]);
  return (
    <>
      <div className="toolbar">
        <button type="button" className="primary" disabled={!writable} onClick={() => setEditing('new')} title={writable ? undefined : 'Needs the write role'}>
          New project
        </button>
      </div>
      <Async loaded={list} isEmpty={(d) => d.total === 0} empty="No projects yet.">
        {(d) => (
          <>
            <table>
              <caption className="sr-only">Projects</caption>
              <thead><tr><th scope="col">Project</th><th scope="col">Description</th><th scope="col">Updated</th><th scope="col">Actions</th></tr></thead>
              <tbody>
                {d.projects.map((p) => (
                  <tr key={p.id}>
                    <td><Link to={`lake/${join(ns.slug, p.slug, 'files')}`}>{p.name}</Link> <span className="muted">{p.slug}</span> <Tags tags={p.tags} /></td>
                    <td>{p.description}</td>
                    <td>{formatTime(p.updatedAt)}</td>
                    <td className="row-actions">
                      <button type="button" disabled={!writable} onClick={() => setEditing(p)} aria-label={`Edit ${p.name}`}>Edit</button>
                      <button type="button" className="danger" disabled={!writable} onClick={() => setDeleting(p)} aria-label={`Delete ${p.name}`}>Delete</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager page={d.page} totalPages={d.totalPages} total={d.total} onPage={setPage} />
          </>
        )}
      </Async>
      {editing && <ProjectForm ns={ns.slug} project={editing === 'new' ? null : editing} onClose={() => setEditing(null)} onDone={list.reload} />}
      {deleting && (
        <Dialog
          title={`Delete ${deleting.name}?`}
          submitLabel="Delete project"
          danger
          onClose={() => setDeleting(null)}
          onSubmit={async () => {
            await ok(api.DELETE('/namespaces/{slug}/projects/{projectSlug}', { params: { path: { slug: ns.slug, projectSlug: deleting.slug } } }));
            list.reload();
          }}
        >
          <p>The project, its whole node tree, its datasets and collections go with it.</p>
        </Dialog>
      )}
    </>
  );
}

function ProjectForm({ ns, project, onClose, onDone }: { ns: string; project: Project | null; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState(project?.name ?? '');
  const [slug, setSlug] = useState(project?.slug ?? '');
  const [description, setDescription] = useState(project?.description ?? '');
  const [tags, setTags] = useState(project?.tags.join(', ') ?? '');
  return (
    <Dialog
      title={project ? `Edit ${project.name}` : 'New project'}
      submitLabel={project ? 'Save project' : 'Create project'}
      onClose={onClose}
      onSubmit={async () => {
        const body = { name, ...(slug ? { slug } : {}), description: description || undefined, tags: parseTags(tags) };
        if (project) await ok(api.PATCH('/namespaces/{slug}/projects/{projectSlug}', { params: { path: { slug: ns, projectSlug: project.slug } }, body }));
        else await ok(api.POST('/namespaces/{slug}/projects', { params: { path: { slug: ns } }, body }));
        onDone();
      }}
    >
      <Field label="Project name" value={name} onChange={setName} required autoFocus />
      <Field label="Project slug" value={slug} onChange={setSlug} placeholder="derived from the name" />
      <Field label="Description" value={description} onChange={setDescription} multiline />
      <Field label="Tags" value={tags} onChange={setTags} placeholder="comma, separated" />
    </Dialog>
  );
}

function Members({ ns }: { ns: Namespace }) {
  const [page, setPage] = usePageParam();
  const [inviting, setInviting] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);
  const [error, setError] = useState<string | null>(null);
  const admin = can(ns.role, 'admin');
  const list = useLoad(() => ok(api.GET('/namespaces/{slug}/members', { params: { path: { slug: ns.slug }, query: { page, pageSize: 100 } } })), [ns.slug, page]);
  const change = async (m: Member, role: string) => {
    setError(null);
    try {
      await ok(api.PUT('/namespaces/{slug}/members/{username}', { params: { path: { slug: ns.slug, username: m.username } }, body: { role: role as 'read' } }));
      list.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <>
      <div className="toolbar">
        <button type="button" className="primary" disabled={!admin} onClick={() => setInviting(true)} title={admin ? undefined : 'Needs the admin role'}>
          Invite member
        </button>
      </div>
      {error && <p role="alert" className="error-text">{error}</p>}
      <Async loaded={list} isEmpty={(d) => d.total === 0} empty="No members.">
        {(d) => (
          <>
            <table>
              <caption className="sr-only">Members</caption>
              <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Since</th><th scope="col">Actions</th></tr></thead>
              <tbody>
                {d.members.map((m) => (
                  <tr key={m.username}>
                    <td>{m.username}</td>
                    <td>
                      <select aria-label={`Role of ${m.username}`} value={m.role} disabled={!admin} onChange={(e) => void change(m, e.target.value)}>
                        {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                      </select>
                    </td>
                    <td>{formatTime(m.createdAt)}</td>
                    <td className="row-actions">
                      <button type="button" className="danger" disabled={!admin} onClick={() => setRemoving(m)} aria-label={`Remove ${m.username}`}>Remove</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager page={d.page} totalPages={d.totalPages} total={d.total} onPage={setPage} />
          </>
        )}
      </Async>
      {inviting && <Invite ns={ns.slug} onClose={() => setInviting(false)} onDone={list.reload} />}
      {removing && (
        <Dialog
          title={`Remove ${removing.username} from ${ns.name}?`}
          submitLabel="Remove member"
          danger
          onClose={() => setRemoving(null)}
          onSubmit={async () => {
            await ok(api.DELETE('/namespaces/{slug}/members/{username}', { params: { path: { slug: ns.slug, username: removing.username } } }));
            list.reload();
          }}
        >
          <p>{removing.username} loses the {removing.role} role in this namespace.</p>
        </Dialog>
      )}
    </>
  );
}

function Invite({ ns, onClose, onDone }: { ns: string; onClose: () => void; onDone: () => void }) {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState('read');
  return (
    <Dialog
      title="Invite member"
      submitLabel="Invite"
      onClose={onClose}
      onSubmit={async () => {
        await ok(api.PUT('/namespaces/{slug}/members/{username}', { params: { path: { slug: ns, username } }, body: { role: role as 'read' } }));
        onDone();
      }}
    >
      <Field label="Username" value={username} onChange={setUsername} required autoFocus />
      <div className="field">
        <label htmlFor="invite-role">Role</label>
        <select id="invite-role" value={role} onChange={(e) => setRole(e.target.value)}>
          {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
      </div>
    </Dialog>
  );
}
