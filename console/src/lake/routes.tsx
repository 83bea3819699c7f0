import { segments } from '../lib/router.js';
import { ErrorBox } from '../lib/ui.js';
import { ApiError } from '../lib/api.js';
import { Namespaces, NamespacePage } from './namespaces.js';
import { ProjectPage } from './project.js';

/**
 * DreamLake pages:
 *   ""                                   namespaces
 *   lake/:ns[/members]                   a namespace's projects, or its members
 *   lake/:ns/:project/files[/…path]      the node tree
 *   lake/:ns/:project/nodes/:id          one node (preview)
 *   lake/:ns/:project/episodes | datasets[/:name] | collections[/:name]
 */
export function LakeRoutes({ path }: { path: string }) {
  const s = segments(path);
  if (s.length === 0) return <Namespaces />;
  if (s[0] !== 'lake' || s.length < 2) return <ErrorBox error={new ApiError(404, `No page at /${path}`)} />;
  const ns = s[1];
  if (s.length === 2) return <NamespacePage ns={ns} tab="projects" />;
  if (s.length === 3 && s[2] === 'members') return <NamespacePage ns={ns} tab="members" />;
  return <ProjectPage ns={ns} project={s[2]} rest={s.slice(3)} />;
}
