import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { findNonJson } from '../src/index.js';

const notJson = fc.constantFrom<unknown>(Number.NaN, Number.POSITIVE_INFINITY, undefined, new Date(0), () => 1, 1n, new Map());

describe('findNonJson: where a payload stops being plain JSON', () => {
  it('finds nothing in plain JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => findNonJson(value) === undefined));
  });

  it('names the path of the one value that is not JSON', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }).filter((k) => k !== '__proto__'), fc.jsonValue(), { minKeys: 1 }), fc.nat(), notJson, fc.nat(), (object, pick, bad, index) => {
        const keys = Object.keys(object);
        const key = keys[pick % keys.length]!;
        const list = [...Array(index % 4).keys()];
        const payload = { ...object, [key]: { inner: [...list, bad] } };
        expect(findNonJson(payload)).toBe(`$.${key}.inner[${list.length}]`);
      }),
    );
  });
});
