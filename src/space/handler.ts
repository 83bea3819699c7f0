import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { retryTransaction } from '../core/db/errors.js';
import { AppError, badRequest, notFound } from '../core/errors.js';
import { jsonPages } from '../core/json-stream.js';
import type { SpaceKysely } from './db.js';
import { parseQuery } from './filters.js';
import type { Model } from './models.js';
import { idOf, resolve, walk, type Link, type Target } from './router.js';
import { validateBody } from './validate.js';

/**
 * The one handler behind every Dreamspace route: read the path against the relation table, then
 * validate → database → present. Each write is one transaction that also reads back what it answers.
 */
export function spaceHandler(db: SpaceKysely, prefix: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const target = walk(segmentsOf(request.url, prefix));
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const query = (request.query ?? {}) as Record<string, unknown>;
    const result =
      target.kind === 'collection'
        ? await onCollection(db, target, method, query, request.body)
        : await onObject(db, target, method, query, request.body);
    // A long list is already a stream of JSON (streamedList).
    return reply.type('application/json; charset=utf-8').send(result instanceof Readable ? result : JSON.stringify(result));
  };
}

type Collection = Extract<Target, { kind: 'collection' }>;

/** Objects per page of a list (documents, which carry images, say fewer). */
const LIST_PAGE = 1000;

/**
 * A list longer than a page, as a JSON array streamed a page at a time: `first` is the page already read, each
 * next one is read (by ID, after the last one sent) when the client has taken the previous one, so that a list of
 * any length never sits in memory whole.
 */
function streamedList(db: SpaceKysely, model: Model, conditions: RawBuilder<SqlBool>[], limit: number | undefined, first: unknown[], page: number): Readable {
  async function* pages(): AsyncGenerator<string[]> {
    let rows = first;
    let sent = 0;
    for (;;) {
      yield rows.map((r) => JSON.stringify(r));
      sent += rows.length;
      const left = (limit ?? Infinity) - sent;
      if (rows.length < page || left <= 0) return;
      const after = Number((rows[rows.length - 1] as Record<string, unknown>)[model.pk]);
      rows = await model.repo.list(db, conditions, { after, limit: Math.min(left, page) });
      if (rows.length === 0) return;
    }
  }
  return jsonPages('[', pages(), () => ']');
}
type One = Extract<Target, { kind: 'object' }>;

async function onCollection(db: SpaceKysely, target: Collection, method: string, query: Record<string, unknown>, body: unknown) {
  const { model, scope } = target;
  const { repo } = model;
  if (method === 'GET') {
    const parsed = parseQuery(repo.filters, query, scope ? [scope.column] : []);
    const conditions = scope ? [equal(model, scope.column, idOf(scope.parent)), ...parsed.conditions] : parsed.conditions;
    const page = repo.listPage ?? LIST_PAGE;
    const rows = await repo.list(db, conditions, { after: parsed.after, limit: Math.min(parsed.limit ?? Infinity, page) });
    if (rows.length === 0 && scope) await resolve(db, scope.parent); // a missing parent is a 404, not []
    if (rows.length < page || (parsed.limit !== undefined && parsed.limit <= page)) return rows;
    return streamedList(db, model, conditions, parsed.limit, rows, page);
  }
  if (method === 'POST') {
    const input = validateBody(scope ? repo.schemas.createScoped : repo.schemas.create, body, repo.readOnly);
    return transact(db, async (trx) => {
      const parentId = scope ? await resolve(trx, scope.parent, 'key share') : undefined;
      const id = await repo.create(trx, input as never, scope && { column: scope.column, id: parentId as number });
      return one(trx, model, id);
    });
  }
  const bulk = scope ? repo.schemas.bulkScoped : repo.schemas.bulk;
  if (method === 'PUT' && bulk) {
    const items = validateBody(bulk, body) as unknown[];
    return transact(db, async (trx) => {
      const parentId = scope ? await resolve(trx, scope.parent, 'key share') : undefined;
      const ids: number[] = [];
      for (const item of items) ids.push(await repo.create(trx, item as never, scope && { column: scope.column, id: parentId as number }));
      if (ids.length === 0) return [];
      return repo.list(trx, [sql<SqlBool>`${sql.ref(`${repo.alias}.${model.pk}`)} in (${sql.join(ids)})`], {});
    });
  }
  throw methodNotAllowed(method, bulk ? ['GET', 'POST', 'PUT'] : ['GET', 'POST'], `the ${model.name} list`);
}

async function onObject(db: SpaceKysely, target: One, method: string, query: Record<string, unknown>, body: unknown) {
  const { model, link } = target;
  const { repo } = model;
  if (method === 'GET') {
    const parsed = parseQuery(repo.filters, query);
    const rows = await repo.list(db, [equal(model, model.pk, idOf(link)), ...parsed.conditions], { limit: 1 });
    if (rows.length > 0) return rows[0];
    const id = await resolve(db, link);
    throw notFound(`${model.label} ${id} ${parsed.conditions.length > 0 ? 'does not match the filters' : 'not found'}.`);
  }
  const allowed = repo.patch && repo.remove ? ['GET', 'PATCH', 'DELETE'] : ['GET'];
  if (method === 'PATCH' && repo.patch && repo.schemas.patch) {
    const input = validateBody(repo.schemas.patch, body, repo.readOnly);
    const patch = repo.patch;
    const exclusive = repo.exclusiveFields?.some((field) => Object.hasOwn(input as object, field)) ?? false;
    return transact(db, async (trx) => {
      const id = await resolve(trx, link, exclusive ? 'update' : 'key share');
      await keepInPath(trx, link, input as Record<string, unknown>);
      await patch(trx, id, input as never);
      return one(trx, model, id);
    });
  }
  if (method === 'DELETE' && repo.remove) {
    const remove = repo.remove;
    return transact(db, async (trx) => {
      const id = await resolve(trx, link, 'update');
      const before = await one(trx, model, id);
      await remove(trx, id);
      return before;
    });
  }
  const why = allowed.length === 1 ? `${model.name} cannot be changed or deleted` : `this path names one ${model.label.toLowerCase()}`;
  throw methodNotAllowed(method, allowed, describe(link), why);
}

/**
 * A PATCH through a path may not move the object out of the parent the path names: `PATCH
 * /documents/1/stamps/5 {"document_id": 2}` is a 400, as the same body is on a POST there (see scoped in
 * fields.ts); the parent's own ID (or no such field) is fine. The column is the one the path filters on: a
 * member's under a list (`/users/1/specimens/3`: owner_id), or a to-one relation's back-reference
 * (`/users/1/specimen`: owner_id).
 */
async function keepInPath(trx: SpaceKysely, link: Link, body: Record<string, unknown>) {
  const bound = boundBy(link);
  if (!bound || !Object.hasOwn(body, bound.column)) return;
  const parentId = await resolve(trx, bound.parent);
  const given = body[bound.column];
  if (given !== parentId) throw badRequest(`Field ${bound.column} is ${String(given)} but the path says ${parentId}.`);
}

function boundBy(link: Link): { column: string; parent: Link } | undefined {
  if (link.kind === 'member') return { column: link.column, parent: link.parent };
  if (link.kind === 'hop') {
    const relation = link.from.model.relations[link.relation];
    if (relation.kind === 'one' && relation.backColumn) return { column: relation.backColumn, parent: link.from };
  }
  return undefined;
}

/**
 * One write transaction. The rows a write reads are locked (see resolve and requireRow), so a concurrent
 * delete cannot slip between a check and the write; what still collides (a deadlock between two such
 * writes) runs again, and the re-run answers from what committed.
 */
function transact<T>(db: SpaceKysely, work: (trx: SpaceKysely) => Promise<T>): Promise<T> {
  return retryTransaction(() => db.transaction().execute(work));
}

async function one(db: SpaceKysely, model: Model, id: number) {
  const [row] = await model.repo.list(db, [equal(model, model.pk, sql`${id}`)], { limit: 1 });
  if (row === undefined) throw notFound(`${model.label} ${id} not found.`);
  return row;
}

function equal(model: Model, column: string, value: unknown) {
  return sql<SqlBool>`${sql.ref(`${model.repo.alias}.${column}`)} = ${value}`;
}

function methodNotAllowed(method: string, allowed: string[], what: string, why?: string) {
  const reason = why ? ` (${why})` : '';
  return new AppError(405, 'method_not_allowed', `${method} is not allowed on ${what}${reason}; allowed: ${allowed.join(', ')}.`, {
    allow: allowed.join(', '),
  });
}

function describe(link: Link): string {
  return link.kind === 'hop' ? `${describe(link.from)}/${link.relation}` : `${link.kind === 'member' ? `${describe(link.parent)}/` : ''}${link.model.name}/${link.id}`;
}

/** `/dreamspace/users/4/transactions?x=1` → `['users', '4', 'transactions']`. */
function segmentsOf(url: string, prefix: string): string[] {
  const path = url.split('?')[0].slice(prefix.length);
  return path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}
