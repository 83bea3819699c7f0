// pouchdb ships no types; the tests use it through the small surface in couch-helpers.ts.
declare module 'pouchdb';
declare module 'pouchdb-adapter-memory';
declare module 'pouchdb-find';
