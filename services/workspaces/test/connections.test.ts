import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isCanopyError } from '@canopy/schema';
import { decodeCursor, encodeCursor, MAX_PAGE, paginate } from '../src/graphql/connections.js';

const keyOf = (s: string) => s;

/** Every page from the start, following endCursor. */
function walk(items: string[], first: number): string[][] {
  const pages: string[][] = [];
  let after: string | null = null;
  for (;;) {
    const page: ReturnType<typeof paginate<string>> = paginate(items, { first, after }, keyOf);
    pages.push(page.nodes);
    if (!page.pageInfo.hasNextPage) return pages;
    after = page.pageInfo.endCursor;
  }
}

describe('paginate (Relay connections)', () => {
  it('walks every item exactly once, in key order, whatever the page size', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { maxLength: 60 }), fc.integer({ min: 1, max: 25 }), (items, first) => {
        const pages = walk(items, first);
        const sorted = [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(pages.flat()).toEqual(sorted);
        for (const page of pages.slice(0, -1)) expect(page).toHaveLength(first);
        expect(paginate(items, { first }, keyOf).totalCount).toBe(items.length);
      }),
    );
  });

  it('continues after a removed item, neither skipping nor repeating the rest', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { minLength: 2, maxLength: 40 }), fc.nat(), (items, pick) => {
        const sorted = [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        const cut = pick % (sorted.length - 1);
        const first = paginate(sorted, { first: cut + 1 }, keyOf);
        const removed = sorted.filter((item) => item !== sorted[cut]);
        const rest = paginate(removed, { first: MAX_PAGE, after: first.pageInfo.endCursor }, keyOf);
        expect(rest.nodes).toEqual(sorted.slice(cut + 1));
      }),
    );
  });

  it('round-trips any key through a cursor', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (key) => expect(decodeCursor(encodeCursor(key))).toBe(key)));
  });

  it.each([
    ['first 0', { first: 0 }, 'first'],
    ['first above the maximum', { first: MAX_PAGE + 1 }, 'first'],
    ['a cursor this API did not make', { first: 5, after: 'not a cursor!' }, 'after'],
    ['a cursor with padding', { first: 5, after: `${encodeCursor('a')}=` }, 'after'],
  ])('refuses %s with BAD_USER_INPUT naming the argument', (_name, args, field) => {
    let caught: unknown;
    try {
      paginate(['a', 'b'], args, keyOf);
    } catch (error) {
      caught = error;
    }
    expect(isCanopyError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'BAD_USER_INPUT', details: { field } });
  });
});
