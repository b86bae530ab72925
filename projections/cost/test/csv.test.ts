import { describe, expect, it } from '@jest/globals';
import { toCsv } from '../src/index.js';

describe('CSV for finance (RFC 4180)', () => {
  it('ends every record with CRLF and quotes only fields that need it, doubling their quotes', () => {
    expect(toCsv(['a', 'b'], [['plain', 'with,comma'], ['say "hi"', 'two\r\nlines'], ['bare\nLF', '']])).toBe(
      'a,b\r\nplain,"with,comma"\r\n"say ""hi""","two\r\nlines"\r\n"bare\nLF",\r\n',
    );
  });

  it('keeps a spreadsheet from running a text field as a formula, and leaves numbers alone', () => {
    expect(toCsv(['id', 'amount'], [['=HYPERLINK("http://evil")', { number: '-1.000000' }], ['+1', { number: '0.500000' }], ['@SUM(A1)', { number: '2' }], ['-x', { number: '3' }]])).toBe(
      `id,amount\r\n"'=HYPERLINK(""http://evil"")",-1.000000\r\n'+1,0.500000\r\n'@SUM(A1),2\r\n'-x,3\r\n`,
    );
  });

  it('writes a header alone for no records', () => {
    expect(toCsv(['date', 'total'], [])).toBe('date,total\r\n');
  });
});
