// The original clients' path dialect, in one place. Our node tree stores slash paths below the project root
// (`/camera/front/clip.mp4`); the original clients speak of
// - the parent's comma-separated path rooted at the project slug (`,robotics-lab,camera,front,`) with the
//   last segment as `name`, for every node;
// - `nodePath` (`/robotics-lab/drive-0412`), the slash path rooted at the project slug, for episodes.

/** The node's parent as a comma path rooted at the project slug: `/docs/a.txt` in `lab` → `,lab,docs,`. */
export function commaParentPath(projectSlug: string, path: string): string {
  const parent = path.slice(0, path.lastIndexOf('/'));
  return `,${projectSlug}${parent.split('/').join(',')},`;
}

/** The project root itself, as the original clients name it (never read by them). */
export const ROOT_COMMA_PATH = ',';

/** A slash path rooted at the project slug: `/drive-0412` in `robotics-lab` → `/robotics-lab/drive-0412`. */
export function nodePath(projectSlug: string, path: string): string {
  return `/${projectSlug}${path}`;
}
