/**
 * CSV as RFC 4180 writes it: fields separated by commas, records by CRLF,
 * and a field holding a comma, a double quote, CR or LF enclosed in double
 * quotes with its quotes doubled. A text field a spreadsheet would run as
 * a formula (starting with `=`, `+`, `-`, `@`, tab or CR) is prefixed with
 * `'` (OWASP's advice against CSV injection): the export is opened by
 * finance in spreadsheets, and workspace ids are free text.
 */
export type CsvField = string | { number: string };

const FORMULA = /^[=+\-@\t\r]/;

function field(value: CsvField): string {
  const text = typeof value === 'string' ? (FORMULA.test(value) ? `'${value}` : value) : value.number;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The header and the records as one CSV document, every record ending with CRLF. */
export function toCsv(header: readonly string[], records: Iterable<readonly CsvField[]>): string {
  const lines = [header.map(field).join(',')];
  for (const record of records) lines.push(record.map(field).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
