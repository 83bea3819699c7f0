import { badRequest } from './errors.js';

// Mango selectors (CouchDB's _find language) for filter=_selector: field conditions with $eq, $ne, $gt,
// $gte, $lt, $lte, $in, $nin, $exists, $type, $size, $mod, $regex, $all, $elemMatch, and the combinators
// $and, $or, $nor, $not. Values compare in CouchDB's collation order.

export type Selector = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function rank(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (v === false) return 1;
  if (v === true) return 2;
  if (typeof v === 'number') return 3;
  if (typeof v === 'string') return 4;
  if (Array.isArray(v)) return 5;
  return 6;
}

export function collate(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 3) return (a as number) - (b as number);
  if (ra === 4) return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  if (ra === 5) {
    const x = a as unknown[];
    const y = b as unknown[];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = collate(x[i], y[i]);
      if (c) return c;
    }
    return x.length - y.length;
  }
  if (ra === 6) return collate(JSON.stringify(a), JSON.stringify(b));
  return 0;
}

const equal = (a: unknown, b: unknown) => rank(a) === rank(b) && collate(a, b) === 0 && JSON.stringify(a) === JSON.stringify(b);

function fieldOf(doc: unknown, path: string): unknown {
  let at: unknown = doc;
  for (const part of path.split('.')) {
    if (!isObject(at) && !Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

function condition(value: unknown, op: string, arg: unknown): boolean {
  switch (op) {
    case '$eq': return equal(value, arg);
    case '$ne': return !equal(value, arg);
    case '$gt': return value !== undefined && collate(value, arg) > 0;
    case '$gte': return value !== undefined && collate(value, arg) >= 0;
    case '$lt': return value !== undefined && collate(value, arg) < 0;
    case '$lte': return value !== undefined && collate(value, arg) <= 0;
    case '$in':
      if (!Array.isArray(arg)) throw badRequest('$in needs an array.');
      return arg.some((a) => (Array.isArray(value) ? value.some((v) => equal(v, a)) : equal(value, a)));
    case '$nin':
      if (!Array.isArray(arg)) throw badRequest('$nin needs an array.');
      return value !== undefined && !arg.some((a) => (Array.isArray(value) ? value.some((v) => equal(v, a)) : equal(value, a)));
    case '$exists': return (value !== undefined) === Boolean(arg);
    case '$type': return typeName(value) === arg;
    case '$size': return Array.isArray(value) && value.length === arg;
    case '$mod': {
      const [d, r] = arg as [number, number];
      return Number.isInteger(value) && (value as number) % d === r;
    }
    case '$regex': {
      if (typeof arg !== 'string') throw badRequest('$regex needs a string.');
      let re: RegExp;
      try {
        re = new RegExp(arg);
      } catch {
        throw badRequest(`Invalid $regex: ${arg}`);
      }
      return typeof value === 'string' && re.test(value);
    }
    case '$all': return Array.isArray(value) && Array.isArray(arg) && arg.every((a) => value.some((v) => equal(v, a)));
    case '$elemMatch': return Array.isArray(value) && value.some((v) => fieldMatches(v, arg));
    case '$not': return !fieldMatches(value, arg);
    default: throw badRequest(`Unsupported selector operator ${op}.`);
  }
}

function fieldMatches(value: unknown, cond: unknown): boolean {
  if (isObject(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
    return Object.entries(cond).every(([op, arg]) => condition(value, op, arg));
  }
  if (isObject(cond)) return Object.entries(cond).every(([k, c]) => fieldMatches(fieldOf(value, k), c));
  return equal(value, cond);
}

export function matches(doc: unknown, selector: Selector): boolean {
  return Object.entries(selector).every(([key, cond]) => {
    switch (key) {
      case '$and': return asList(cond, key).every((s) => matches(doc, s));
      case '$or': return asList(cond, key).some((s) => matches(doc, s));
      case '$nor': return !asList(cond, key).some((s) => matches(doc, s));
      case '$not': return !matches(doc, cond as Selector);
      default:
        if (key.startsWith('$')) throw badRequest(`Unsupported selector operator ${key}.`);
        return fieldMatches(fieldOf(doc, key), cond);
    }
  });
}

function asList(v: unknown, op: string): Selector[] {
  if (!Array.isArray(v) || !v.every(isObject)) throw badRequest(`${op} needs an array of selectors.`);
  return v;
}

/** Checks a selector once (so a bad one is a 400 before any feed starts). */
export function checkSelector(selector: unknown): Selector {
  if (!isObject(selector)) throw badRequest('selector must be a JSON object.');
  matches({}, selector);
  return selector;
}
