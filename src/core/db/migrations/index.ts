import type { Migration } from 'kysely';
import * as lakeCore from './001-lake-core.js';
import * as lakeNodes from './002-lake-nodes.js';
import * as script from './003-script.js';
import * as space from './004-space.js';
import * as lakeCollections from './005-lake-collections.js';
import * as lakeUploads from './006-lake-uploads.js';
import * as lakeOriginal from './007-lake-original.js';
import * as scriptCouch from './008-script-couch.js';
import * as scriptPurge from './009-script-purge.js';
import * as scriptSeqFloor from './010-script-seq-floor.js';

/** Ordered by name; a migration, once released, never changes: add a new file instead. */
export const migrations: Record<string, Migration> = {
  '001-lake-core': lakeCore,
  '002-lake-nodes': lakeNodes,
  '003-script': script,
  '004-space': space,
  '005-lake-collections': lakeCollections,
  '006-lake-uploads': lakeUploads,
  '007-lake-original': lakeOriginal,
  '008-script-couch': scriptCouch,
  '009-script-purge': scriptPurge,
  '010-script-seq-floor': scriptSeqFloor,
};
