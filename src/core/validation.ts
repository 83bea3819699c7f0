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
  if (httpPart === 'body') return strict.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
  return decimalNumbersOnly(schema, coercing.compile(schema as object)) as ReturnType<FastifySchemaCompiler<unknown>>;
};

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
