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

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? strict : coercing;
  return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
};
