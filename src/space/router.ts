import { sql, type Expression, type RawBuilder } from 'kysely';
import { lockClause, type LockMode } from '../core/db/dialect.js';
import { badRequest, notFound } from '../core/errors.js';
import type { SpaceKysely } from './db.js';
import { MODELS, topModelNamed, type Model, type Relation } from './models.js';

/** How an object was reached: by ID at the top, by ID under a parent, or through a `one` relation. */
export type Link =
  | { kind: 'root'; model: Model; id: number }
  | { kind: 'member'; model: Model; id: number; column: string; parent: Link }
  | { kind: 'hop'; model: Model; relation: string; from: Link };

/** What a path names: a (possibly scoped) model directory, or one object. */
export type Target =
  | { kind: 'collection'; model: Model; scope?: { column: string; parent: Link } }
  | { kind: 'object'; model: Model; link: Link };

const MAX_SEGMENTS = 32;

/**
 * Reads a path such as `/events/1/user/specimen/owner` against the relation table, without touching the
 * database: an unknown model or relation is a 404 (no such resource, as the API document answers what does not
 * exist), a malformed ID a 400.
 */
export function walk(segments: string[]): Target {
  if (segments.length > MAX_SEGMENTS) throw badRequest(`The path is too deep (at most ${MAX_SEGMENTS} parts).`);
  const [first, ...rest] = segments;
  const root = topModelNamed(first ?? '');
  if (!root) throw notFound(`Unknown model "${first ?? ''}". Models: ${Object.keys(MODELS).join(', ')}.`);

  let target: Target = { kind: 'collection', model: root };
  for (const segment of rest) {
    if (target.kind === 'collection') {
      const id = parseId(segment, target.model);
      const link: Link = target.scope
        ? { kind: 'member', model: target.model, id, column: target.scope.column, parent: target.scope.parent }
        : { kind: 'root', model: target.model, id };
      target = { kind: 'object', model: target.model, link };
      continue;
    }
    const from: Link = target.link;
    const relations: Record<string, Relation> = target.model.relations;
    const relation: Relation | undefined = Object.hasOwn(relations, segment) ? relations[segment] : undefined;
    if (!relation) {
      const known = Object.keys(target.model.relations).join(', ');
      throw notFound(`Unknown relation "${segment}" of ${target.model.name}. Relations: ${known}.`);
    }
    const model: Model = MODELS[relation.target];
    target =
      relation.kind === 'many'
        ? { kind: 'collection', model, scope: { column: relation.column, parent: from } }
        : { kind: 'object', model, link: { kind: 'hop', model, relation: segment, from } };
  }
  return target;
}

function parseId(segment: string, model: Model): number {
  const id = /^\d{1,16}$/.test(segment) ? Number(segment) : NaN;
  if (!Number.isSafeInteger(id)) {
    throw badRequest(`"${segment}" is not a valid ${model.label.toLowerCase()} ID: IDs are non-negative integers.`);
  }
  return id;
}

/** The ID a link names, as one SQL expression (nested subqueries for chains): null when it names nothing. */
export function idOf(link: Link): Expression<unknown> {
  const { model } = link;
  switch (link.kind) {
    case 'root':
      return sql`${link.id}`;
    case 'member':
      return sql`(select ${sql.ref(model.pk)} from ${sql.table(model.table)}
        where ${sql.ref(model.pk)} = ${link.id} and ${sql.ref(link.column)} = ${idOf(link.parent)})`;
    case 'hop':
      return relationOf(link).resolve(idOf(link.from));
  }
}

/**
 * Resolves a link one step at a time to a number, or throws the 404 that names the first missing step
 * (`Event 1 has no user.`). Writes use it for the IDs they need; reads only after an empty answer.
 */
export async function resolve(db: SpaceKysely, link: Link, lock?: LockMode): Promise<number> {
  const { model } = link;
  // A write locks every row on the way (PostgreSQL): the parents and the rows it points at against a
  // concurrent delete (`key share`), the row it deletes for itself (`update`). See core/db/dialect.ts.
  const parentLock = lock && 'key share';
  switch (link.kind) {
    case 'root': {
      const found = await row(db, model, sql`${sql.ref(model.pk)} = ${link.id}`, lock);
      if (found === null) throw notFound(`${model.label} ${link.id} not found.`);
      return found;
    }
    case 'member': {
      const parentId = await resolve(db, link.parent, parentLock);
      const found = await row(db, model, sql`${sql.ref(model.pk)} = ${link.id} and ${sql.ref(link.column)} = ${parentId}`, lock);
      if (found === null) {
        throw notFound(`${model.label} ${link.id} not found for ${link.parent.model.label.toLowerCase()} ${parentId}.`);
      }
      return found;
    }
    case 'hop': {
      // Only the row the hop arrives at is locked: locking the way there too (a stamp, then its document)
      // would take locks in the opposite order of a delete that cascades (the document, then its stamps).
      const fromId = await resolve(db, link.from);
      const relation = relationOf(link);
      const found = await scalar(db, relation.resolve(sql`${fromId}`));
      if (found === null) throw notFound(`${link.from.model.label} ${fromId} ${relation.missing}.`);
      if (lock && (await row(db, model, sql`${sql.ref(model.pk)} = ${found}`, lock)) === null) {
        throw notFound(`${link.from.model.label} ${fromId} ${relation.missing}.`);
      }
      return found;
    }
  }
}

/** The primary key of the row matching `where`, locked in `lock` mode when given; null when none. */
async function row(db: SpaceKysely, model: Model, where: RawBuilder<unknown>, lock: LockMode | undefined): Promise<number | null> {
  const { rows } = await sql<{ id: number | string }>`select ${sql.ref(model.pk)} as id from ${sql.table(model.table)} where ${where}${lockClause(db, lock)}`.execute(db);
  return rows.length === 0 ? null : Number(rows[0].id);
}

function relationOf(link: Extract<Link, { kind: 'hop' }>) {
  const relation = link.from.model.relations[link.relation];
  if (relation.kind !== 'one') throw new Error(`${link.relation} is not a one-relation`);
  return relation;
}

async function scalar(db: SpaceKysely, expression: Expression<unknown>): Promise<number | null> {
  const { rows } = await sql<{ id: number | string | null }>`select ${expression} as id`.execute(db);
  const id = rows[0]?.id;
  return id === null || id === undefined ? null : Number(id);
}
