import type { ReadModelTx } from './read-model-db.js';

/**
 * Collects a batch's statements instead of running them, for projectors
 * whose `apply` only writes: the whole batch then costs the database one
 * round trip instead of one per statement. Queries answer no rows.
 */
export class WriteBatch implements ReadModelTx {
  private readonly statements: string[] = [];

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    this.statements.push(params.length === 0 ? sql : inlineParameters(sql, params));
    return [];
  }

  async exec(script: string): Promise<void> {
    this.statements.push(script);
  }

  get size(): number {
    return this.statements.length;
  }

  /** Every statement collected, as one script (simple-query protocol: several statements in one message). */
  script(): string {
    return this.statements.map((statement) => `${statement.trim().replace(/;$/, '')};`).join('\n');
  }
}

/**
 * Writes the parameters into the statement as quoted literals. The server
 * reads a quoted literal as a value of unknown type resolved by its context,
 * exactly as it reads the untyped text parameters node-postgres sends, so
 * the statement means the same; the values are escaped, never spliced raw.
 */
export function inlineParameters(sql: string, params: readonly unknown[]): string {
  return sql.replace(/\$(\d+)/g, (_match, digits: string) => {
    const index = Number(digits) - 1;
    if (index < 0 || index >= params.length) throw new Error(`Statement refers to $${digits} but has ${params.length} parameters: ${sql}`);
    return literal(params[index]);
  });
}

function literal(value: unknown): string {
  return value === null || value === undefined ? 'NULL' : quote(text(value));
}

const NEEDS_ESCAPING = /['\\]/;

/**
 * What `pg.escapeLiteral` answers, without its character-by-character
 * concatenation: most values hold no quote and no backslash and are only
 * wrapped (a live batch quotes every value of every row it writes).
 */
function quote(text: string): string {
  if (!NEEDS_ESCAPING.test(text)) return `'${text}'`;
  const escaped = `'${text.replace(/'/g, "''").replace(/\\/g, '\\\\')}'`;
  return text.includes('\\') ? ` E${escaped}` : escaped;
}

/** A value as node-postgres sends it as a text parameter. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (Array.isArray(value)) return arrayLiteral(value);
  return JSON.stringify(value);
}

function arrayLiteral(values: readonly unknown[]): string {
  const elements = values.map((element) => {
    if (element === null || element === undefined) return 'NULL';
    if (Array.isArray(element)) return arrayLiteral(element);
    return `"${text(element).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  return `{${elements.join(',')}}`;
}
