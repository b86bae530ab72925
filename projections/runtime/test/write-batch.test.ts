import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import pg from 'pg';
import { inlineParameters } from '../src/write-batch.js';

describe('inlineParameters', () => {
  it("quotes every string exactly as node-postgres's escapeLiteral does", () => {
    const tricky = fc.constantFrom("'", '\\', "''", "\\'", 'E', ' ', '\n', 'é', '😀', '"');
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), tricky)).map((parts) => parts.join('')), (text) => {
        expect(inlineParameters('SELECT $1', [text])).toBe(`SELECT ${pg.escapeLiteral(text)}`);
      }),
      { numRuns: 2000 },
    );
  });
});
