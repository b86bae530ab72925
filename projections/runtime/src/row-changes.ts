import type { ReadModelTx } from './read-model-db.js';

/** The SQL types a changed column may have (parameters are sent as arrays of them). */
export type SqlType = 'text' | 'bigint' | 'integer' | 'numeric' | 'boolean' | 'jsonb' | 'timestamptz' | 'date';

/** The SQL types a counter column may have. */
export type CounterType = 'integer' | 'bigint' | 'numeric';

export interface TableSpec {
  /** The table's name inside the projector's schema. */
  table: string;
  /** The primary key's columns (none of them NULL), with their types. */
  key: Readonly<Record<string, SqlType>>;
  /** The other columns that upserts and updates write. */
  columns?: Readonly<Record<string, SqlType>>;
  /**
   * Columns only `add` changes (upserts and updates never set them): each
   * must be `NOT NULL DEFAULT 0` in the table, so that adding to a row that
   * is not there yet is adding to zero.
   */
  counters?: Readonly<Record<string, CounterType>>;
}

/** An amount to add to a counter column: an integer. */
export type Amount = number | bigint;

type Row = Readonly<Record<string, unknown>>;

/** What a batch does to one row, netted: only its last effect reaches the database. */
type Pending =
  /**
   * Insert, or update the given columns of the row already there.
   * `replace`: a delete came first in the batch, so the row starts fresh.
   * `updatedBefore`: an update came first, to apply only if the row exists.
   */
  | { kind: 'upsert'; key: Row; values: Record<string, unknown>; replace: boolean; updatedBefore?: Record<string, unknown>; added?: Record<string, Amount> }
  | { kind: 'delete'; key: Row }
  /** Sets the given columns of the row, if it exists. */
  | { kind: 'update'; key: Row; values: Record<string, unknown> };

/**
 * A batch's changes to one table, keyed by primary key and netted in memory,
 * then written as a few multi-row statements (one per kind of change and
 * set of columns) instead of one per event. A rebuild applies hundreds of
 * events per transaction, most of them touching rows that other events of
 * the same batch touch too; netting writes each row once.
 *
 * The result equals applying each change in order: deletes by partial key
 * run first, then deletes, then updates, then upserts, which is equivalent
 * because every row's pending change is the net of everything the batch
 * did to it after the last partial-key delete that covered it (an update
 * after an upsert is merged into it; one before it runs first; additions
 * to a counter are summed, and written as `counter = counter + amount`).
 */
export class TableChanges {
  private readonly keyColumns: string[];
  private readonly pending = new Map<string, Pending>();
  /** Deletes by some of the key columns, grouped by columns at flush. */
  private readonly wipes: Row[] = [];

  constructor(private readonly spec: TableSpec) {
    this.keyColumns = Object.keys(spec.key);
  }

  /** INSERT … ON CONFLICT (key) DO UPDATE SET the given columns (DO NOTHING without columns). */
  upsert(key: Row, values: Record<string, unknown> = {}): void {
    this.checkNotCounters(values);
    const id = this.idOf(key);
    const before = this.pending.get(id);
    if (before?.kind === 'upsert') Object.assign(before.values, values);
    else if (before?.kind === 'update') this.pending.set(id, { kind: 'upsert', key, values: { ...values }, replace: false, updatedBefore: before.values });
    else this.pending.set(id, { kind: 'upsert', key, values: { ...values }, replace: before?.kind === 'delete' });
  }

  /** UPDATE the given columns of the row, if there is one. */
  update(key: Row, values: Record<string, unknown>): void {
    this.checkNotCounters(values);
    const id = this.idOf(key);
    const before = this.pending.get(id);
    if (before?.kind === 'delete') return;
    if (before) Object.assign(before.values, values);
    else this.pending.set(id, { kind: 'update', key, values: { ...values } });
  }

  delete(key: Row): void {
    this.pending.set(this.idOf(key), { kind: 'delete', key });
  }

  /**
   * Adds integer amounts to counter columns: INSERT the row with them (its
   * other columns at their defaults) or, when it is there, `SET counter =
   * counter + amount`. Several additions to one row in a batch become one.
   */
  add(key: Row, amounts: Readonly<Record<string, Amount>>): void {
    // A hot path (a roll-up adds to several tables per event): plain loops, no intermediate arrays.
    for (const column in amounts) {
      const amount = amounts[column]!;
      if (!this.spec.counters?.[column]) throw new Error(`Table ${this.spec.table}: add changes counter columns only, not ${column}`);
      if (typeof amount !== 'bigint' && !Number.isSafeInteger(amount)) throw new Error(`Table ${this.spec.table}: ${column} must be added an integer, got ${amount}`);
    }
    const id = this.idOf(key);
    const before = this.pending.get(id);
    if (before?.kind === 'upsert') {
      const added = (before.added ??= {});
      for (const column in amounts) {
        const had = added[column];
        added[column] = had === undefined ? amounts[column]! : sum(had, amounts[column]!);
      }
    } else if (before?.kind === 'update') this.pending.set(id, { kind: 'upsert', key, values: {}, replace: false, updatedBefore: before.values, added: { ...amounts } });
    else this.pending.set(id, { kind: 'upsert', key, values: {}, replace: before?.kind === 'delete', added: { ...amounts } });
  }

  /** DELETE every row whose key columns named in `match` equal it (e.g. all rows of one workspace). */
  deleteWhere(match: Row): void {
    const columns = Object.keys(match);
    for (const column of columns) if (!(column in this.spec.key)) throw new Error(`Table ${this.spec.table}: deleteWhere matches key columns only, not ${column}`);
    for (const [id, change] of this.pending) {
      if (columns.every((column) => change.key[column] === match[column])) {
        // Covered by the delete, which runs first; a pending update or upsert the batch made before it is void.
        this.pending.delete(id);
      }
    }
    this.wipes.push(match);
  }

  get size(): number {
    return this.pending.size + this.wipes.length;
  }

  /** Writes the netted changes and forgets them. */
  async flush(tx: ReadModelTx, schema: string): Promise<void> {
    const target = `${schema}.${this.spec.table}`;
    for (const rows of groupBy(this.wipes, (match) => Object.keys(match))) await this.deleteRows(tx, target, Object.keys(rows[0]!), rows);
    const changes = [...this.pending.values()];
    const deleted = changes.filter((c) => c.kind === 'delete' || (c.kind === 'upsert' && c.replace)).map((c) => c.key);
    if (deleted.length > 0) await this.deleteRows(tx, target, this.keyColumns, deleted);
    const updates = changes.flatMap((c) => (c.kind === 'update' ? [c] : c.kind === 'upsert' && c.updatedBefore ? [{ key: c.key, values: c.updatedBefore }] : []));
    for (const group of groupBy(updates, (c) => Object.keys(c.values))) await this.updateRows(tx, target, group);
    const upserts = changes.filter((c) => c.kind === 'upsert');
    for (const group of groupBy(upserts, (c) => [...Object.keys(c.values), '+', ...Object.keys(c.added ?? {})])) await this.upsertRows(tx, target, group);
    this.pending.clear();
    this.wipes.length = 0;
  }

  private async deleteRows(tx: ReadModelTx, target: string, columns: string[], rows: readonly Row[]): Promise<void> {
    const { list, params } = this.unnest(columns, rows.map((row) => columns.map((column) => row[column])));
    await tx.query(`DELETE FROM ${target} AS t USING ${list} WHERE ${columns.map((c) => `t.${c} = d.${c}`).join(' AND ')}`, params);
  }

  private async upsertRows(tx: ReadModelTx, target: string, group: readonly Extract<Pending, { kind: 'upsert' }>[]): Promise<void> {
    const valueColumns = Object.keys(group[0]!.values);
    const counterColumns = Object.keys(group[0]!.added ?? {});
    const columns = [...this.keyColumns, ...valueColumns, ...counterColumns];
    const { list, params } = this.unnest(
      columns,
      group.map((c) => [...this.keyColumns.map((k) => c.key[k]), ...valueColumns.map((v) => c.values[v]), ...counterColumns.map((v) => c.added![v])]),
    );
    const sets = [...valueColumns.map((c) => `${c} = EXCLUDED.${c}`), ...counterColumns.map((c) => `${c} = t.${c} + EXCLUDED.${c}`)];
    const onConflict = sets.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${sets.join(', ')}`;
    await tx.query(`INSERT INTO ${target} AS t (${columns.join(', ')}) SELECT * FROM ${list} ON CONFLICT (${this.keyColumns.join(', ')}) ${onConflict}`, params);
  }

  private async updateRows(tx: ReadModelTx, target: string, group: readonly { key: Row; values: Record<string, unknown> }[]): Promise<void> {
    const valueColumns = Object.keys(group[0]!.values);
    const { list, params } = this.unnest(
      [...this.keyColumns, ...valueColumns],
      group.map((c) => [...this.keyColumns.map((k) => c.key[k]), ...valueColumns.map((v) => c.values[v])]),
    );
    await tx.query(
      `UPDATE ${target} AS t SET ${valueColumns.map((c) => `${c} = d.${c}`).join(', ')} FROM ${list} WHERE ${this.keyColumns.map((c) => `t.${c} = d.${c}`).join(' AND ')}`,
      params,
    );
  }

  /** `unnest($1::type[], …) AS d(columns…)` over the rows' values, one array parameter per column. */
  private unnest(columns: readonly string[], rows: readonly (readonly unknown[])[]): { list: string; params: unknown[][] } {
    const params = columns.map((_, index) => rows.map((row) => row[index] ?? null));
    const arrays = columns.map((column, index) => `$${index + 1}::${this.typeOf(column)}[]`);
    return { list: `unnest(${arrays.join(', ')}) AS d(${columns.join(', ')})`, params };
  }

  private checkNotCounters(values: Record<string, unknown>): void {
    for (const column of Object.keys(values)) if (this.spec.counters?.[column]) throw new Error(`Table ${this.spec.table}: ${column} is a counter, changed by add only`);
  }

  private typeOf(column: string): SqlType {
    const type = this.spec.key[column] ?? this.spec.columns?.[column] ?? this.spec.counters?.[column];
    if (!type) throw new Error(`Table ${this.spec.table} has no column ${column} in its spec`);
    return type;
  }

  private idOf(key: Row): string {
    return this.keyColumns
      .map((column) => {
        const value = key[column];
        if (value === null || value === undefined) throw new Error(`Table ${this.spec.table}: key column ${column} is missing`);
        return String(value);
      })
      .join('\u0000');
  }
}

/** Two amounts added: a number while the sum stays a safe integer, a bigint beyond. */
function sum(a: Amount, b: Amount): Amount {
  if (typeof a === 'number' && typeof b === 'number' && Number.isSafeInteger(a + b)) return a + b;
  return BigInt(a) + BigInt(b);
}

/** Groups items by a list of names (order kept within each group). */
function groupBy<T>(items: readonly T[], namesOf: (item: T) => string[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const signature = namesOf(item).join(',');
    const group = groups.get(signature);
    if (group) group.push(item);
    else groups.set(signature, [item]);
  }
  return [...groups.values()];
}

/**
 * The changes of one batch to a projector's tables. Statements that cannot
 * be netted (an increment, a lookup) go through `statement`, which first
 * writes everything pending so that they see the batch's effects in order.
 */
export class BatchChanges<Name extends string> {
  private readonly tables: Record<Name, TableChanges>;

  constructor(
    private readonly tx: ReadModelTx,
    private readonly schema: string,
    specs: Readonly<Record<Name, TableSpec>>,
  ) {
    this.tables = Object.fromEntries(Object.entries<TableSpec>(specs).map(([name, spec]) => [name, new TableChanges(spec)])) as Record<Name, TableChanges>;
  }

  table(name: Name): TableChanges {
    return this.tables[name];
  }

  /** Runs one statement now, after everything pending. */
  async statement(sql: string, params?: readonly unknown[]): Promise<void> {
    await this.flush();
    await this.tx.query(sql, params);
  }

  /** Writes everything pending, table by table in the order of the specs. */
  async flush(): Promise<void> {
    for (const table of Object.values<TableChanges>(this.tables)) if (table.size > 0) await table.flush(this.tx, this.schema);
  }
}
