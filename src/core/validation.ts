import Ajv, { type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// Bodies are validated strictly (no type coercion, unknown fields kept so that additionalProperties:false
// rejects them). Query strings and path parameters arrive as text, so there numbers are coerced.
const common: Options = { allErrors: false, removeAdditional: false, useDefaults: true, strict: false };

function makeAjv(coerce: boolean) {
  const ajv = new Ajv.default({ ...common, coerceTypes: coerce ? 'array' : false });
  addFormats.default(ajv);
  return ajv;
}

const strict = makeAjv(false);
const coercing = makeAjv(true);

type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  if (httpPart === 'body') return namingTheRule(strict.compile(schema as object)) as ReturnType<FastifySchemaCompiler<unknown>>;
  return namingTheRule(decimalNumbersOnly(schema, coercing.compile(schema as object))) as ReturnType<FastifySchemaCompiler<unknown>>;
};

interface Issue {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * Ajv's words for a union and for constants do not say what is wrong: a value outside `feed: "normal" | "longpoll"`
 * was "must be equal to constant", a too-long string where `string | null` is allowed "must match a schema in
 * anyOf". The errors are rewritten so that the first, the one answered, names the rule: the allowed values, the
 * allowed types, or the rule the value broke in the alternative of its own type (e.g. maxLength).
 */
function namingTheRule(validate: Validate): Validate {
  const checked: Validate = (data) => {
    const ok = validate(data);
    checked.errors = ok ? null : clarify((validate.errors ?? []) as Issue[]);
    return ok;
  };
  return checked;
}

const shown = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
const quoted = (value: unknown) => JSON.stringify(value);

function clarify(errors: Issue[]): Issue[] {
  const out: Issue[] = [];
  for (const error of errors) {
    if (error.keyword !== 'anyOf') {
      out.push(plain(error));
      continue;
    }
    // With allErrors off, each alternative reported (at most) its first error, just before the anyOf's own.
    const inside = `${error.schemaPath}/`;
    let first = out.length;
    while (first > 0 && out[first - 1].schemaPath.startsWith(inside)) first--;
    out.splice(first, out.length - first, unionIssue(error, out.slice(first)));
  }
  return out;
}

function plain(error: Issue): Issue {
  if (error.keyword === 'const') return { ...error, message: `must be ${quoted(error.params.allowedValue)}` };
  if (error.keyword === 'enum') {
    return { ...error, message: `must be one of: ${(error.params.allowedValues as unknown[]).map(shown).join(', ')}` };
  }
  return error;
}

function unionIssue(union: Issue, alternatives: Issue[]): Issue {
  // The value has the type of an alternative but breaks one of its rules: that rule is what is wrong.
  const broken = alternatives.find((a) => !['type', 'const', 'enum'].includes(a.keyword));
  if (broken) return broken;
  if (alternatives.length && alternatives.every((a) => a.keyword === 'const' || a.keyword === 'enum')) {
    const allowedValues = alternatives.flatMap((a) => (a.keyword === 'const' ? [a.params.allowedValue] : (a.params.allowedValues as unknown[])));
    return { ...union, keyword: 'enum', params: { allowedValues }, message: `must be one of: ${allowedValues.map(shown).join(', ')}` };
  }
  const allowed = alternatives.flatMap((a) =>
    a.keyword === 'type' ? [String(a.params.type).replace(/,/g, ' or ')] : a.keyword === 'const' ? [quoted(a.params.allowedValue)] : ((a.params.allowedValues as unknown[]) ?? []).map(quoted),
  );
  return allowed.length ? { ...union, message: `must be ${[...new Set(allowed)].join(' or ')}` } : union;
}

const INTEGER_TEXT = /^-?\d+$/;
const NUMBER_TEXT = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Ajv coerces a query or path value the way JavaScript's `==` does, so `0x1`, `1e3`, `+1`, ` 1` and `0b1` all
 * passed as integers (`/documents/0x1` read document 1). Text for an integer or number parameter must be written
 * in decimal: anything else is the 400 Ajv gives a value that is no number.
 */
function decimalNumbersOnly(schema: unknown, validate: Validate): Validate {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  const numeric = Object.entries(properties).flatMap(([key, s]) => (s.type === 'integer' || s.type === 'number' ? [[key, s.type] as const] : []));
  if (numeric.length === 0) return validate;
  const checked: Validate = (data) => {
    if (data !== null && typeof data === 'object') {
      for (const [key, type] of numeric) {
        const value = (data as Record<string, unknown>)[key];
        const texts = Array.isArray(value) ? value : [value];
        if (texts.some((v) => typeof v === 'string' && !(type === 'integer' ? INTEGER_TEXT : NUMBER_TEXT).test(v))) {
          checked.errors = [{ instancePath: `/${key}`, schemaPath: `#/properties/${key}/type`, keyword: 'type', params: { type }, message: `must be ${type}` }];
          return false;
        }
      }
    }
    const ok = validate(data);
    checked.errors = validate.errors;
    return ok;
  };
  return checked;
}
