// npm run gen:client: writes client/openapi.json and client/schema.d.ts from the server's current routes.
import { writeFileSync } from 'node:fs';
import { currentOpenApi, schemaTypes } from '../../src/console/openapi-types.js';

const doc = await currentOpenApi();
writeFileSync(new URL('../../client/openapi.json', import.meta.url), `${JSON.stringify(doc, null, 2)}\n`);
writeFileSync(new URL('../../client/schema.d.ts', import.meta.url), await schemaTypes(doc));
console.log('Wrote client/openapi.json and client/schema.d.ts');
