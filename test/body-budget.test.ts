import { describe, expect, it } from 'vitest';
import { createBodyBudget } from '../src/core/body-budget.js';

const settled = async <T>(p: Promise<T>) => {
  let done = false;
  void p.then(() => (done = true), () => (done = true));
  await new Promise((r) => setTimeout(r, 20));
  return done;
};

describe('body budget', () => {
  it('grants at once within the budget, queues beyond it in arrival order, and frees on give-back', async () => {
    const budget = createBodyBudget(10);
    const a = await budget.take(6);
    const b = budget.take(6); // would overflow: waits
    const c = budget.take(1); // fits, but arrived after b: waits behind it
    expect(await settled(b)).toBe(false);
    expect(await settled(c)).toBe(false);
    expect(budget.used).toBe(6);
    a();
    a(); // giving back twice frees once
    const giveB = await b;
    await c;
    expect(budget.used).toBe(7);
    giveB();
    expect(budget.used).toBe(1);
  });

  it('lets one body larger than the whole budget through alone', async () => {
    const budget = createBodyBudget(10);
    const small = await budget.take(3);
    const huge = budget.take(50);
    expect(await settled(huge)).toBe(false);
    small();
    const give = await huge;
    expect(budget.used).toBe(10);
    give();
    expect(budget.used).toBe(0);
  });

  it('answers 503 with Retry-After to a request that waited too long, and serves the ones behind it', async () => {
    const budget = createBodyBudget(10, 50);
    const held = await budget.take(10);
    const late = budget.take(5);
    const after = new Promise((r) => setTimeout(r, 30)).then(() => budget.take(5));
    await expect(late).rejects.toMatchObject({ status: 503, headers: { 'retry-after': '5' } });
    held();
    await after;
    expect(budget.used).toBe(5);
  });
});
