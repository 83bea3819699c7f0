/**
 * Whether an `If-None-Match` / `If-Match` list names entity tag `tag`: one of its tags, strong or weak (`W/`), quoted
 * or not, or `*`. Never throws: a header it cannot read names nothing.
 */
export function etagListNames(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((part) => {
    const listed = part.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
    return listed === '*' || listed === tag;
  });
}
