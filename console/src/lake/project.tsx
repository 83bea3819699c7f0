import { api, ok } from '../lib/api.js';
import { useLoad } from '../lib/load.js';
import { join, Link } from '../lib/router.js';
import { Async, ErrorBox, Page } from '../lib/ui.js';
import { ApiError } from '../lib/api.js';
import { Browser } from './browser.js';
import { NodePage } from './preview.js';
import { Collections, CollectionPage, Datasets, DatasetPage } from './sets.js';
import { Episodes } from './episodes.js';
import type { Namespace, Project } from './types.js';

export interface ProjectCtx {
  ns: Namespace;
  project: Project;
  /** "lake/ns/project" */
  base: string;
}

const TABS = [
  ['files', 'Files'],
  ['episodes', 'Episodes'],
  ['datasets', 'Datasets'],
  ['collections', 'Collections'],
] as const;

export function ProjectPage({ ns, project, rest }: { ns: string; project: string; rest: string[] }) {
  const loaded = useLoad(
    () =>
      Promise.all([
        ok(api.GET('/namespaces/{slug}', { params: { path: { slug: ns } } })),
        ok(api.GET('/namespaces/{slug}/projects/{projectSlug}', { params: { path: { slug: ns, projectSlug: project } } })),
      ]),
    [ns, project],
  );
  const tab = rest[0] ?? 'files';
  return (
    <Async loaded={loaded}>
      {([n, p]) => {
        const ctx: ProjectCtx = { ns: n, project: p, base: `lake/${join(ns, project)}` };
        const crumbs = [
          { to: '', label: 'Namespaces' },
          { to: `lake/${join(ns)}`, label: n.name },
        ];
        return (
          <Page title={p.name} crumbs={crumbs}>
            <nav aria-label="Project" className="tabs">
              {TABS.map(([key, label]) => (
                <Link key={key} to={`${ctx.base}/${key}`} aria-current={tab === key || (tab === 'nodes' && key === 'files') ? 'page' : undefined}>
                  {label}
                </Link>
              ))}
            </nav>
            <ProjectTab ctx={ctx} rest={rest} />
          </Page>
        );
      }}
    </Async>
  );
}

function ProjectTab({ ctx, rest }: { ctx: ProjectCtx; rest: string[] }) {
  const [tab, ...more] = rest;
  switch (tab ?? 'files') {
    case 'files':
      return <Browser ctx={ctx} folder={more} />;
    case 'nodes':
      return <NodePage ctx={ctx} id={more[0] ?? ''} />;
    case 'episodes':
      return <Episodes ctx={ctx} />;
    case 'datasets':
      return more[0] ? <DatasetPage ctx={ctx} name={more[0]} /> : <Datasets ctx={ctx} />;
    case 'collections':
      return more[0] ? <CollectionPage ctx={ctx} name={more[0]} /> : <Collections ctx={ctx} />;
    default:
      return <ErrorBox error={new ApiError(404, `No page ${tab}`)} />;
  }
}
