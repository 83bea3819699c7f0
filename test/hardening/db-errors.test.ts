import { NoResultError } from 'kysely';
import { describe, expect, it } from 'vitest';
import { retryTransaction } from '../../src/core/db/errors.js';
import { toAppError } from '../../src/core/errors.js';
import { findUnstorable, jsonDepthExceeds, jsonShapeProblem, nulInUrl, valueDepthExceeds } from '../../src/core/input-guard.js';

describe('database errors a route did not map are never a 5xx', () => {
  it.each([
    [{ code: '23503', message: 'violates foreign key constraint' }, 409],
    [{ code: 'SQLITE_CONSTRAINT_FOREIGNKEY', message: 'FOREIGN KEY constraint failed' }, 409],
    [{ code: '23505', message: 'duplicate key' }, 409],
    [{ code: '40P01', message: 'deadlock detected' }, 409],
    [{ code: '40001', message: 'could not serialize access' }, 409],
    [{ code: '54000', message: 'index row size exceeds btree version 4 maximum 2704' }, 400],
    [{ code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0x00' }, 400],
    [{ code: '2201W', message: 'LIMIT must not be negative' }, 400],
    [{ code: '2201X', message: 'OFFSET must not be negative' }, 400],
    [{ code: 'SQLITE_MISMATCH', message: 'datatype mismatch' }, 400],
  ])('%j → %i', (err, status) => {
    const mapped = toAppError(Object.assign(new Error(err.message), err));
    expect(mapped.status).toBe(status);
    expect(mapped.message).not.toContain(err.message); // nothing of the database's text leaks
  });

  it('NoResultError (a row gone between a check and a read) is a 404', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expect(toAppError(new NoResultError({} as any)).status).toBe(404);
  });

  it('a full disk (database or blob store) is a 507 that says so, on both dialects and the filesystem', () => {
    for (const code of ['53100', 'SQLITE_FULL', 'ENOSPC']) {
      expect(toAppError(Object.assign(new Error('no space left'), { code }))).toMatchObject({ status: 507, code: 'insufficient_storage', message: expect.stringMatching(/out of storage space/) });
    }
  });

  it('anything else is still a 500 that leaks nothing', () => {
    expect(toAppError(new Error('boom'))).toMatchObject({ status: 500, message: 'Internal server error.' });
  });

  it('retryTransaction re-runs deadlocks and FK failures, a bounded number of times, and nothing else', async () => {
    let runs = 0;
    await expect(retryTransaction(async () => (++runs < 3 ? Promise.reject(Object.assign(new Error('x'), { code: '40P01' })) : 'ok'))).resolves.toBe('ok');
    expect(runs).toBe(3);
    runs = 0;
    await expect(retryTransaction(async () => (runs++, Promise.reject(Object.assign(new Error('fk'), { code: '23503' }))))).rejects.toThrow('fk');
    expect(runs).toBe(4);
    runs = 0;
    await expect(retryTransaction(async () => (runs++, Promise.reject(new Error('other'))))).rejects.toThrow('other');
    expect(runs).toBe(1);
  });
});

describe('input guard helpers', () => {
  it('measure depth without recursion, on text and on values, at any depth', () => {
    expect(jsonDepthExceeds('{"a":'.repeat(64) + '1' + '}'.repeat(64))).toBe(false);
    expect(jsonDepthExceeds('{"a":'.repeat(65) + '1' + '}'.repeat(65))).toBe(true);
    expect(jsonDepthExceeds('['.repeat(1_000_000))).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ s: '[[[[{{{{\\"'.repeat(50) }))).toBe(false);
    // Values: the array, plus one per comma; commas inside strings are not values.
    expect(jsonShapeProblem(`[${'0,'.repeat(999_998)}0]`)).toBeUndefined();
    expect(jsonShapeProblem(`[${'0,'.repeat(999_999)}0]`)).toBe('values');
    expect(jsonShapeProblem(`[${'{},'.repeat(600_000)}{}]`)).toBe('values');
    expect(jsonShapeProblem(JSON.stringify({ s: ','.repeat(3_000_000) }))).toBeUndefined();
    expect(jsonShapeProblem('{"a":'.repeat(65) + '1' + '}'.repeat(65))).toBe('depth');
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(valueDepthExceeds(deep)).toBe(true);
    expect(findUnstorable(deep)).toBeUndefined();
  });

  it('find a NUL, a lone surrogate or an overflowing number in values and keys and name where', () => {
    expect(findUnstorable({ a: [1, 'x', { b: 'y\u0000' }] })).toEqual({ path: 'a[2].b', problem: 'nul' });
    expect(findUnstorable({ 'k\u0000': 1 })).toEqual({ path: 'k\\u0000', problem: 'nul' });
    expect(findUnstorable('\u0000')).toEqual({ path: '', problem: 'nul' });
    expect(findUnstorable({ a: 'fine', pair: '\ud83d\ude00', n: 1.7e308, tiny: 1e-400 })).toBeUndefined();
    expect(findUnstorable({ a: ['x', 'lone \ud800'] })).toEqual({ path: 'a[1]', problem: 'surrogate' });
    expect(findUnstorable({ a: '\ude00 trailing half' })).toEqual({ path: 'a', problem: 'surrogate' });
    expect(findUnstorable({ '\udbff': 1 })).toEqual({ path: '\udbff', problem: 'surrogate' });
    expect(findUnstorable(JSON.parse('{"m":{"n":1e400}}'))).toEqual({ path: 'm.n', problem: 'infinite' });
    expect(findUnstorable(JSON.parse('[-1E+999]'))).toEqual({ path: '[0]', problem: 'infinite' });
  });

  it('tell a NUL in the path from one in the query', () => {
    expect(nulInUrl('GET', '/a/b?c=d')).toBeUndefined();
    expect(nulInUrl('GET', '/a%00/b')?.status).toBe(404);
    expect(nulInUrl('PUT', '/a%00/b')?.status).toBe(400);
    expect(nulInUrl('GET', '/a?x=%00')?.message).toBe('Query parameter x contains a NUL character.');
    expect(nulInUrl('GET', '/a?x=%2500')).toBeUndefined();
  });
});
