import type { Kysely } from 'kysely';

// Placeholder: filled in by the issue that builds this part.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(_db: Kysely<any>): Promise<void> {}
