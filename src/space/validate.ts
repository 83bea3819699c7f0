import type { Static, TSchema } from '@sinclair/typebox';
import { badRequest } from '../core/errors.js';
import { findUnstorable, unstorableInBody } from '../core/input-guard.js';
import { validatorCompiler } from '../core/validation.js';

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}
type Check = ((data: unknown) => boolean) & { errors?: AjvIssue[] | null };

const compiled = new WeakMap<TSchema, Check>();

/**
 * Validates a request body with the core's strict validator (no coercion: a string is not a number) and
 * turns the first problem into one plain sentence naming the field, e.g. `Field seal must be an integer.`
 * `readOnly` names fields the model has but this request may not set, for a better message than "unknown".
 */
export function validateBody<S extends TSchema>(schema: S, body: unknown, readOnly: readonly string[] = []): Static<S> {
  let check = compiled.get(schema);
  if (!check) {
    check = validatorCompiler({ schema, httpPart: 'body', method: 'POST', url: '' }) as unknown as Check;
    compiled.set(schema, check);
  }
  if (body === undefined || body === null) throw badRequest('A JSON body is required.');
  if (!check(body)) throw badRequest(describe(check.errors?.[0], readOnly, schema));
  // The body parser already refused NULs, lone surrogates and Infinity (core/input-guard.ts); bodies handed in by
  // other means are checked too.
  const unstorable = findUnstorable(body);
  if (unstorable) throw badRequest(unstorableInBody(unstorable).message);
  return body as Static<S>;
}

function describe(issue: AjvIssue | undefined, readOnly: readonly string[], schema: TSchema): string {
  if (!issue) return 'The request body is invalid.';
  const at = fieldPath(issue.instancePath);
  const inside = at ? `${at}.` : '';
  switch (issue.keyword) {
    case 'required':
      return `Missing required field: ${inside}${String(issue.params.missingProperty)}.`;
    case 'additionalProperties': {
      const extra = String(issue.params.additionalProperty);
      if (!at && readOnly.includes(extra)) {
        const allowed = Object.keys((schema as { properties?: object }).properties ?? {}).join(', ');
        return `Field ${extra} cannot be set here (allowed: ${allowed}).`;
      }
      return `Unknown field: ${inside}${extra}.`;
    }
    case 'type': {
      const type = String(issue.params.type).replace(',null', ' or null');
      const what = at ? `Field ${at}` : 'The body';
      return `${what} must be ${article(type)} ${type}.`;
    }
    case 'enum':
      return `Field ${at} must be one of: ${(issue.params.allowedValues as unknown[]).join(', ')}.`;
    case 'minLength':
      return `Field ${at} must not be empty.`;
    case 'maxLength':
      return `Field ${at} must be at most ${String(issue.params.limit)} characters long.`;
    case 'maxItems':
      return `${at ? `Field ${at} holds` : 'Send'} at most ${String(issue.params.limit)} items${at ? '' : ' per request'}.`;
    case 'minimum':
    case 'maximum':
      return `Field ${at} ${issue.message ?? 'is out of range'}.`;
    default:
      return `Field ${at || 'body'} ${issue.message ?? 'is invalid'}.`;
  }
}

/** `/document/stamps/0/pos_x` → `document.stamps[0].pos_x` */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? 'an' : 'a';
}
