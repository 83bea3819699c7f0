import { RE2JS } from 're2js';
import { badRequest } from './errors.js';

// Mango selectors (CouchDB's _find language) for filter=_selector: field conditions with $eq, $ne, $gt,
// $gte, $lt, $lte, $in, $nin, $exists, $type, $size, $mod, $regex, $all, $elemMatch, $allMatch, and the
// combinators $and, $or, $nor, $not. Values compare in CouchDB's collation order.
//
// A selector is compiled once, before any feed starts: every operator and argument is checked then (a bad one
// anywhere is a 400, not an error half way through a feed when some document first reaches it), and each
// $regex runs on RE2 (linear time: a client's pattern cannot stall the server with catastrophic backtracking;
// backreferences and lookaround are refused, as RE2 has none).

export type Matcher = (doc: unknown) => boolean;

/** Nesting of selectors and conditions past which a selector is refused (far beyond any real query). */
const MAX_DEPTH = 64;
/** Longest accepted $regex: RE2 compiles in time and memory proportional to the pattern. */
const MAX_REGEX = 4096;
const TYPES = new Set(['null', 'boolean', 'number', 'string', 'array', 'object']);

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
/** Equal to `arg`, or (for an array field) holding an element equal to it. */
const holds = (value: unknown, arg: unknown) => (Array.isArray(value) ? value.some((v) => equal(v, arg)) : equal(value, arg));

export function fieldOf(doc: unknown, path: string[]): unknown {
  let at: unknown = doc;
  for (const part of path) {
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

const all = (matchers: Matcher[]): Matcher => (matchers.length === 1 ? matchers[0] : (v) => matchers.every((m) => m(v)));

function deeper(depth: number): number {
  if (depth >= MAX_DEPTH) throw badRequest(`The selector is nested deeper than ${MAX_DEPTH} levels.`);
  return depth + 1;
}

function arrayArg(arg: unknown, op: string): unknown[] {
  if (!Array.isArray(arg)) throw badRequest(`${op} needs an array.`);
  return arg;
}

function regex(arg: unknown): Matcher {
  if (typeof arg !== 'string') throw badRequest('$regex needs a string.');
  if (arg.length > MAX_REGEX) throw badRequest(`$regex patterns are limited to ${MAX_REGEX} characters.`);
  let re: RE2JS;
  try {
    re = RE2JS.compile(arg);
  } catch (err) {
    throw badRequest(`Invalid $regex (RE2 syntax: no backreferences or lookaround): ${err instanceof Error ? err.message : arg}`);
  }
  return (value) => typeof value === 'string' && re.test(value);
}

/** `cond` applied to the field at the dotted path `key` of a value. */
function fieldMatcher(key: string, cond: unknown, depth: number): Matcher {
  const path = key.split('.');
  const inner = compileCondition(cond, depth);
  return (value) => inner(fieldOf(value, path));
}

/** A condition on one field's value: `{"$op": arg, …}`, nested fields `{"sub": cond}`, or a value to equal. */
function compileCondition(cond: unknown, depth: number): Matcher {
  const at = deeper(depth);
  if (!isObject(cond)) return (value) => equal(value, cond);
  const keys = Object.keys(cond);
  if (!keys.some((k) => k.startsWith('$'))) return all(keys.map((k) => fieldMatcher(k, cond[k], at)));
  return all(keys.map((op) => compileOperator(op, cond[op], at)));
}

function compileOperator(op: string, arg: unknown, depth: number): Matcher {
  switch (op) {
    case '$eq': return (v) => equal(v, arg);
    case '$ne': return (v) => !equal(v, arg);
    case '$gt': return (v) => v !== undefined && collate(v, arg) > 0;
    case '$gte': return (v) => v !== undefined && collate(v, arg) >= 0;
    case '$lt': return (v) => v !== undefined && collate(v, arg) < 0;
    case '$lte': return (v) => v !== undefined && collate(v, arg) <= 0;
    case '$in': {
      const list = arrayArg(arg, op);
      return (v) => list.some((a) => holds(v, a));
    }
    case '$nin': {
      const list = arrayArg(arg, op);
      return (v) => v !== undefined && !list.some((a) => holds(v, a));
    }
    case '$all': {
      const list = arrayArg(arg, op);
      return (v) => Array.isArray(v) && list.every((a) => v.some((e) => equal(e, a)));
    }
    case '$exists':
      if (typeof arg !== 'boolean') throw badRequest('$exists needs true or false.');
      return (v) => (v !== undefined) === arg;
    case '$type':
      if (typeof arg !== 'string' || !TYPES.has(arg)) throw badRequest(`$type needs one of ${[...TYPES].join(', ')}.`);
      return (v) => typeName(v) === arg;
    case '$size':
      if (!Number.isInteger(arg) || (arg as number) < 0) throw badRequest('$size needs a non-negative integer.');
      return (v) => Array.isArray(v) && v.length === arg;
    case '$mod': {
      const [divisor, remainder] = Array.isArray(arg) && arg.length === 2 ? arg : [];
      if (!Number.isInteger(divisor) || divisor === 0 || !Number.isInteger(remainder)) {
        throw badRequest('$mod needs [divisor, remainder]: integers, the divisor not 0.');
      }
      return (v) => Number.isInteger(v) && (v as number) % divisor === remainder;
    }
    case '$regex': return regex(arg);
    case '$elemMatch': {
      const inner = compileCondition(objectArg(arg, op), depth);
      return (v) => Array.isArray(v) && v.some(inner);
    }
    case '$allMatch': {
      const inner = compileCondition(objectArg(arg, op), depth);
      return (v) => Array.isArray(v) && v.length > 0 && v.every(inner);
    }
    case '$not': {
      const inner = compileCondition(arg, depth);
      return (v) => !inner(v);
    }
    default: throw badRequest(`Unsupported selector operator ${op}.`);
  }
}

function objectArg(arg: unknown, op: string): Record<string, unknown> {
  if (!isObject(arg)) throw badRequest(`${op} needs a JSON object.`);
  return arg;
}

function selectorList(v: unknown, op: string, depth: number): Matcher[] {
  if (!Array.isArray(v) || !v.every(isObject)) throw badRequest(`${op} needs an array of selectors.`);
  return v.map((s) => compileAt(s, depth));
}

function compileAt(selector: Record<string, unknown>, depth: number): Matcher {
  const at = deeper(depth);
  return all(Object.entries(selector).map(([key, cond]): Matcher => {
    switch (key) {
      case '$and': {
        const list = selectorList(cond, key, at);
        return (doc) => list.every((m) => m(doc));
      }
      case '$or': {
        const list = selectorList(cond, key, at);
        return (doc) => list.some((m) => m(doc));
      }
      case '$nor': {
        const list = selectorList(cond, key, at);
        return (doc) => !list.some((m) => m(doc));
      }
      case '$not': {
        const inner = compileAt(objectArg(cond, key), at);
        return (doc) => !inner(doc);
      }
      default:
        if (key.startsWith('$')) throw badRequest(`Unsupported selector operator ${key}.`);
        return fieldMatcher(key, cond, at);
    }
  }));
}

/** Checks a whole selector and answers its matcher (a bad selector is a 400 before any feed starts). */
export function compileSelector(selector: unknown): Matcher {
  if (!isObject(selector)) throw badRequest('selector must be a JSON object.');
  return compileAt(selector, 0);
}
